"""tutti.train / tutti.Model against `tutti train` / `tutti predict` on the same files."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import tutti
from conftest import make_bags, run_cli


def test_predict_equals_cli_bit_for_bit(tmp_path, cli, bags, bags_file, att_file):
    out = tmp_path / "pred.npz"
    run_cli(cli, "predict", att_file, bags_file, "-o", out, "--instances", "--threads", 2)
    ref = np.load(out)
    model = tutti.Model.load(att_file)
    p = model.predict(bags.X, bags.n_instances, instances=True, threads=2)
    assert p.scores.dtype == np.float32 and p.scores.shape == (len(bags), 3)
    assert np.array_equal(p.scores, ref["scores"])
    assert np.array_equal(p.instance_prob, ref["instance_prob"])
    assert np.array_equal(p.attention, ref["attention"])
    # A Bags and the plain call give the same scores.
    assert np.array_equal(model.predict(bags), ref["scores"])
    assert model.classes == list(ref["classes"])


def test_model_properties_and_save(tmp_path, att_file):
    model = tutti.Model.load(att_file)
    assert model.name == "att"
    assert model.config["seed"] == 2 and model.config["epochs"] == 4
    assert model.thresholds.shape == (3,) and model.thresholds.dtype == np.float32
    assert model.path == str(att_file)
    copy = tmp_path / "copy.tutti"
    model.save(copy)
    assert copy.read_bytes() == att_file.read_bytes()


def _train_both(tmp_path, cli, bags_file, model, *flags, **kwargs):
    cli_out = tmp_path / f"cli-{model}.tutti"
    run_cli(cli, "train", bags_file, "--model", model, "-o", cli_out, *flags)
    py_out = tmp_path / f"py-{model}.tutti"
    py_model = tutti.train(bags_file, model=model, out=py_out, **kwargs)
    assert py_out.exists()
    return tutti.Model.load(cli_out), py_model


@pytest.mark.parametrize("model,flags,kwargs", [
    ("att", ["--seed", 5, "--threads", 2, "--epochs", 3, "--lr", 0.001],
     dict(seed=5, threads=2, epochs=3, learning_rate=0.001)),
    ("fc_t", ["--seed", 7, "--threads", 1, "--epochs", 2, "--option", "dropout=0.2"],
     dict(seed=7, threads=1, epochs=2, dropout=0.2)),
    ("rf", ["--seed", 3, "--threads", 1, "--rf-trees", 5],
     dict(seed=3, threads=1, rf_trees=5)),
])
def test_train_equals_cli(tmp_path, cli, bags, bags_file, model, flags, kwargs):
    ref, got = _train_both(tmp_path, cli, bags_file, model, *flags, **kwargs)
    assert got.config == ref.config
    r, g = ref.info["training"], got.info["training"]
    assert [(e["train_loss"], e["val_loss"], e["val_map"]) for e in g["history"]] == \
        [(e["train_loss"], e["val_loss"], e["val_map"]) for e in r["history"]]
    assert g["best_epoch"] == r["best_epoch"] and g["val_loss"] == r["val_loss"]
    assert np.array_equal(got.thresholds, ref.thresholds)
    assert np.array_equal(got.predict(bags, threads=1), ref.predict(bags, threads=1))


def test_train_in_memory_and_progress(tmp_path, bags):
    seen = []
    model = tutti.train(bags, "att", seed=1, threads=1, epochs=3, progress=seen.append)
    assert model.path is None
    assert [r["epoch"] for r in seen] == [1, 2, 3]
    assert all(r["epochs"] == 3 and np.isfinite(r["val_loss"]) for r in seen)
    hist = model.info["training"]["history"]
    assert [r["val_map"] for r in seen] == [e["val_map"] for e in hist]
    # The same data as a tuple of arrays (X, n_instances, Y_true, Y_mask): the same model.
    arrays = tutti.train((bags.X, bags.n_instances, bags.Y_true, bags.Y_mask, bags.sample_key,
                          bags.classes), "att", seed=1, threads=1, epochs=3)
    assert np.array_equal(arrays.predict(bags), model.predict(bags))
    model.save(tmp_path / "m.tutti")
    again = tutti.Model.load(tmp_path / "m.tutti")
    assert np.array_equal(again.predict(bags), model.predict(bags))


def test_progress_callback_exception_stops_training(tmp_path, bags):
    out = tmp_path / "m.tutti"

    def stop(record):
        if record["epoch"] == 2:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        tutti.train(bags, "att", epochs=50, threads=1, progress=stop, out=out)
    assert os.listdir(tmp_path) == []


def test_sigint_during_training_raises_keyboard_interrupt(tmp_path):
    data = make_bags(n=400, seed=3)
    out = tmp_path / "m.tutti"
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            tutti.train(data, "att", epochs=100000, threads=1, out=out)
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 30
    assert os.listdir(tmp_path) == []  # no model file, no staging file


def test_gil_released_while_training(bags):
    done = threading.Event()
    worker = threading.Thread(
        target=lambda: (tutti.train(bags, "att", epochs=6, threads=1), done.set()))
    spins = 0
    worker.start()
    while worker.is_alive():
        spins += 1
    worker.join()
    assert done.is_set()
    # With the GIL held for the whole call this thread could not run while the model trained.
    assert spins > 1000


def test_help_lists_every_declared_option_and_default():
    doc = tutti.train.__doc__
    import inspect
    params = inspect.signature(tutti.train).parameters
    for o in tutti.train_options():
        assert f"{o['key']} ({o['type']}, default {o['default_text']}" in doc
        assert o["key"] in params
    for m in tutti.models():
        assert m["name"] in doc
    assert params["seed"].default == 1 and params["val_fraction"].default == 0.15
