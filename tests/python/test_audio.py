"""tutti.embed and Model.tag against `tutti embed` / `tutti tag --json` on the same audio."""
import json

import numpy as np
import pytest

import tutti
from conftest import make_bags, run_cli, write_tone_wav


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    return path, write_tone_wav(path, seconds=12.5)


@pytest.fixture(scope="module")
def logmel_model(tmp_path_factory, cli):
    """An ATT model for logmel-stats features (4 instances per bag), trained by the CLI."""
    folder = tmp_path_factory.mktemp("tagmodel")
    make_bags(n=64, k=4, seed=5, embedder="logmel-stats").save(folder / "d.npz")
    run_cli(cli, "train", folder / "d.npz", "--epochs", 2, "--threads", 1, "-o",
            folder / "m.tutti")
    return folder / "m.tutti"


def test_embed_file_equals_cli(tmp_path, cli, tone):
    path, _ = tone
    run_cli(cli, "embed", path, "--embedder", "logmel-stats", "-o", tmp_path / "e.npz")
    ref = np.load(tmp_path / "e.npz")
    got = tutti.embed(path)
    assert got.dtype == np.uint8 and got.shape == (13, 128)
    assert np.array_equal(got, ref["X"][0, :ref["n_instances"][0]])
    assert np.array_equal(tutti.embed(str(path), max_instances=4), got[:4])


def test_embed_waveform_equals_file(tone):
    path, wave = tone
    assert np.array_equal(tutti.embed(wave, sample_rate=16000), tutti.embed(path))
    stereo = np.stack([wave, wave], axis=1)
    assert tutti.embed(stereo, 16000).shape == (13, 128)


def test_tag_equals_cli(cli, tone, logmel_model):
    path, wave = tone
    ref = json.loads(run_cli(cli, "tag", path, "--model", logmel_model, "--json").stdout)
    ref_file = ref["files"][str(path)]
    model = tutti.Model.load(logmel_model)
    t = model.tag(path)
    got = t.to_json()
    got.pop("file")
    assert got == ref_file
    C = len(model.classes)
    assert t.probability.shape == (C,) and t.present.dtype == bool
    assert t.timeline.shape == (13, C) and t.attention.shape == (13, C)
    assert np.allclose(t.start_s, np.arange(13) * 0.96)
    for k, name in enumerate(model.classes):
        inst = ref_file["instruments"][name]
        assert t.probability[k] == pytest.approx(inst["probability"], abs=1e-7)
        assert bool(t.present[k]) == inst["present"]
        assert [row["prob"][name] for row in ref_file["timeline"]] == \
            pytest.approx(t.instance_prob[:, k].tolist(), abs=1e-7)
    # A waveform is tagged like the file it came from.
    w = model.tag(wave, sample_rate=16000)
    assert np.array_equal(w.probability, t.probability)
    assert np.array_equal(w.timeline, t.timeline)


def test_audio_errors(tmp_path, tone, logmel_model, att_file):
    path, wave = tone
    with pytest.raises(tutti.Error, match="audio: .*missing.wav"):
        tutti.embed(tmp_path / "missing.wav")
    with pytest.raises(TypeError, match="sample_rate: a waveform needs its sample rate"):
        tutti.embed(wave)
    with pytest.raises(TypeError, match="sample_rate: expected an int"):
        tutti.embed(wave, 16000.0)
    with pytest.raises(ValueError, match="sample_rate: 10 Hz is outside"):
        tutti.embed(wave, 10)
    with pytest.raises(ValueError, match="sample_rate: only for a waveform"):
        tutti.embed(path, 16000)
    with pytest.raises(ValueError, match=r"waveform: expected shape \(samples,\)"):
        tutti.embed(np.zeros((2, 2, 2), np.float32), 16000)
    with pytest.raises(TypeError, match="waveform: expected a float array"):
        tutti.embed(np.array(["a"]), 16000)
    with pytest.raises(tutti.UsageError, match="nope"):
        tutti.embed(path, embedder="nope")
    with pytest.raises(tutti.Error, match="none.tutti-embedder"):
        tutti.embed(path, embedder=tmp_path / "none.tutti-embedder")
    with pytest.raises(TypeError, match="embedder: expected a name or a path"):
        tutti.embed(path, embedder=3)
    with pytest.raises(ValueError, match="max_instances: -1 is negative"):
        tutti.embed(path, max_instances=-1)
    model = tutti.Model.load(logmel_model)
    with pytest.raises(tutti.Error, match="audio: .*missing.wav"):
        model.tag(tmp_path / "missing.wav")
    with pytest.raises(TypeError, match="sample_rate: a waveform needs"):
        model.tag(wave)
    # A VGGish model without the VGGish weights: the library's message says where to get them.
    with pytest.raises(tutti.Error, match="vggish"):
        tutti.Model.load(att_file).tag(path, vggish=tmp_path / "none.tutti-embedder")
