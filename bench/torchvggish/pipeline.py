#!/usr/bin/python3
"""torchvggish's embedding pipeline, re-stated for bench/torchvggish_side_by_side.sh.

    /usr/bin/python3 bench/torchvggish/pipeline.py WEIGHTS.pth PCA.pth THREADS OUT.npy AUDIO

What it runs, as harritaylor/torchvggish (commit f3f90969ce8fb77a05d984b892ddf662e8466377) runs
it for `model.forward(path)` (VGGish(preprocess=True, postprocess=True)):
  - torchvggish/vggish_input.py wavfile_to_examples: soundfile.read(dtype='int16') / 32768.0;
    waveform_to_examples: mean of the channels, resampy.resample(data, sr, 16000), log-mel
    spectrogram, framing into 96-frame examples hopped by 96 frames;
  - torchvggish/mel_features.py: frame (stride tricks), periodic_hann, stft_magnitude
    (np.fft.rfft of the windowed frames), hertz_to_mel, spectrogram_to_mel_matrix,
    log_mel_spectrogram (window 0.025 s, hop 0.010 s, fft length 2^ceil(log2(400)) = 512,
    64 mel bins 125-7500 Hz, log(mel + 0.01));
  - torchvggish/vggish.py VGG.forward (the network, flatten after transposing to channels-last)
    and Postprocessor.postprocess (torch.mm with the PCA eigenvectors, clamp to [-2, 2], scale to
    [0, 255], torch.round).
The network class is tools/fixtures/make_vggish_fixtures.py's VGG (the same layers and names).
Prints one JSON line: examples, audio seconds, seconds per stage.
"""
import json
import os
import sys
import time

import numpy as np
import resampy
import soundfile as sf
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "fixtures"))
from make_vggish_fixtures import VGG  # noqa: E402

SAMPLE_RATE = 16000


def frame(data, window_length, hop_length):
    num_frames = 1 + int(np.floor((data.shape[0] - window_length) / hop_length))
    shape = (num_frames, window_length) + data.shape[1:]
    strides = (data.strides[0] * hop_length,) + data.strides
    return np.lib.stride_tricks.as_strided(data, shape=shape, strides=strides)


def periodic_hann(window_length):
    return 0.5 - (0.5 * np.cos(2 * np.pi / window_length * np.arange(window_length)))


def hertz_to_mel(f):
    return 1127.0 * np.log(1.0 + (f / 700.0))


def mel_matrix(num_mel_bins, num_spectrogram_bins, rate, lower_hz, upper_hz):
    bins_mel = hertz_to_mel(np.linspace(0.0, rate / 2.0, num_spectrogram_bins))
    edges = np.linspace(hertz_to_mel(lower_hz), hertz_to_mel(upper_hz), num_mel_bins + 2)
    m = np.empty((num_spectrogram_bins, num_mel_bins))
    for i in range(num_mel_bins):
        lo, c, hi = edges[i:i + 3]
        m[:, i] = np.maximum(0.0, np.minimum((bins_mel - lo) / (c - lo), (hi - bins_mel) / (hi - c)))
    m[0, :] = 0.0
    return m


def log_mel_examples(data):
    window = int(round(SAMPLE_RATE * 0.025))
    hop = int(round(SAMPLE_RATE * 0.010))
    fft_length = 2 ** int(np.ceil(np.log(window) / np.log(2.0)))
    spec = np.abs(np.fft.rfft(frame(data, window, hop) * periodic_hann(window), fft_length))
    mel = np.dot(spec, mel_matrix(64, spec.shape[1], SAMPLE_RATE, 125.0, 7500.0))
    log_mel = np.log(mel + 0.01)
    return frame(log_mel, 96, 96)


def main(argv):
    weights, pca_file, threads, out, audio = argv[1:6]
    torch.set_num_threads(int(threads))
    t = {}
    t0 = time.perf_counter()
    model = VGG()
    model.load_state_dict(torch.load(weights))
    model.eval()
    pca = torch.load(pca_file)
    eig = torch.as_tensor(pca["pca_eigen_vectors"]).float()
    means = torch.as_tensor(pca["pca_means"]).float().reshape(-1, 1)
    t["load_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    wav, sr = sf.read(audio, dtype="int16")
    data = wav / 32768.0
    if data.ndim > 1:
        data = np.mean(data, axis=1)
    t["decode_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if sr != SAMPLE_RATE:
        data = resampy.resample(data, sr, SAMPLE_RATE)
    t["resample_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    examples = torch.tensor(log_mel_examples(data))[:, None, :, :].float()
    t["logmel_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with torch.no_grad():
        emb = model(examples)
        q = torch.round((torch.clamp(torch.mm(eig, emb.t() - means).t(), -2.0, 2.0) + 2.0)
                        * (255.0 / 4.0))
    t["network_s"] = time.perf_counter() - t0
    np.save(out, q.numpy().astype(np.uint8))
    print(json.dumps({"examples": int(q.shape[0]), "audio_s": len(wav) / sr, **t}))


if __name__ == "__main__":
    main(sys.argv)
