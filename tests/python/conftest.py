"""Fixtures of the Python module's tests: the CLI (build/tutti, $TUTTI_CLI), small seeded datasets
written with numpy, and models trained by the CLI on them.

Run: PYTHONPATH=build/python TUTTI_CLI=build/tutti /usr/bin/python3 -m pytest tests/python
(ctest runs it as Python.pytest)."""
import os
import subprocess
import wave

import pytest

import tutti  # first: it sets the thread environment before numpy loads OpenBLAS
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLASSES = ["flute", "piano", "violin"]


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("TUTTI_CLI", os.path.join(REPO, "build", "tutti"))
    if not os.path.exists(path):
        pytest.skip(f"no tutti CLI at {path} (set TUTTI_CLI)")
    return path


def run_cli(cli, *args, ok=True):
    """Runs the CLI; returns the CompletedProcess (asserting success unless ok=False)."""
    p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def cli_error(cli, *args):
    """The CLI's one-line error message (after "tutti: error: " or "tutti: ")."""
    p = run_cli(cli, *args, ok=False)
    assert p.returncode != 0
    line = p.stderr.strip().splitlines()[-1]
    for prefix in ("tutti: error: ", "tutti: "):
        if line.startswith(prefix):
            return line[len(prefix):]
    return line


def make_bags(n=96, k=10, d=128, seed=0, embedder=""):
    """A learnable dataset: class c is present when feature block c is bright in a real instance."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 120, size=(n, k, d), dtype=np.uint8)
    n_inst = rng.integers(1, k + 1, size=n).astype(np.int32)
    Y = np.zeros((n, len(CLASSES)), dtype=np.float32)
    for i in range(n):
        X[i, n_inst[i]:] = 0
        for c in range(len(CLASSES)):
            if rng.random() < 0.4:
                t = rng.integers(0, n_inst[i])
                X[i, t, c * 16:(c + 1) * 16] = 250
                Y[i, c] = 1.0
    mask = rng.random((n, len(CLASSES))) < 0.9
    mask[:6] = True  # every class has known positives and negatives
    Y[:3] = 1.0
    Y[3:6] = 0.0
    return tutti.Bags(X, n_inst, Y, mask, [f"clip{i:03d}" for i in range(n)], CLASSES,
                      embedder=embedder)


@pytest.fixture(scope="session")
def bags():
    return make_bags()


@pytest.fixture(scope="session")
def bags_file(tmp_path_factory, bags):
    path = tmp_path_factory.mktemp("data") / "bags.npz"
    # Written by numpy itself, so that reading is checked against an independent writer.
    np.savez(path, X=bags.X, n_instances=bags.n_instances, Y_true=bags.Y_true,
             Y_mask=bags.Y_mask, sample_key=np.array(bags.sample_key),
             classes=np.array(bags.classes))
    return path


@pytest.fixture(scope="session")
def att_file(tmp_path_factory, cli, bags_file):
    """An ATT model trained by the CLI (seed 2, 2 threads, 4 epochs)."""
    path = tmp_path_factory.mktemp("models") / "att.tutti"
    run_cli(cli, "train", bags_file, "--model", "att", "--seed", 2, "--threads", 2, "--epochs", 4,
            "-o", path)
    return path


def write_tone_wav(path, seconds=4.0, rate=16000, seed=0):
    """A 16-bit PCM WAV of two tones and noise (Python's wave module); returns the float32
    waveform the decoder reads from it (int16 / 32768)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1320 * t * (1 + t / 20))
    x += 0.05 * rng.standard_normal(t.size)
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return pcm.astype(np.float32) / 32768.0
