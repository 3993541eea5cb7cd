"""Every error path of the module: tutti.Error with the CLI's message for library failures,
TypeError/ValueError naming the argument for wrong types and shapes."""
import os

import numpy as np
import pytest

import tutti
from conftest import cli_error


@pytest.fixture(scope="module")
def model(att_file):
    return tutti.Model.load(att_file)


def test_error_types():
    assert issubclass(tutti.UsageError, tutti.Error)
    assert issubclass(tutti.UsageError, ValueError)
    assert not issubclass(tutti.Error, ValueError)


def test_corrupt_npz_same_message_as_cli(tmp_path, cli):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(tutti.Error) as e:
        tutti.load_bags(bad)
    assert str(e.value) == cli_error(cli, "data", "info", bad)


def test_missing_array_same_message_as_cli(tmp_path, cli, bags):
    path = tmp_path / "noX.npz"
    np.savez(path, Y_true=bags.Y_true)
    with pytest.raises(tutti.Error, match="missing array 'X'") as e:
        tutti.load_bags(path)
    assert str(e.value) == cli_error(cli, "data", "info", path)


def test_missing_file(tmp_path):
    with pytest.raises(tutti.Error, match="nothere.npz"):
        tutti.load_bags(tmp_path / "nothere.npz")
    with pytest.raises(tutti.Error, match="nothere.tutti"):
        tutti.Model.load(tmp_path / "nothere.tutti")


def test_bad_model_file_same_message_as_cli(tmp_path, cli, bags_file):
    bad = tmp_path / "bad.tutti"
    bad.write_bytes(b"garbage")
    with pytest.raises(tutti.Error) as e:
        tutti.Model.load(bad)
    assert str(e.value).startswith("model: ")
    assert str(e.value) == cli_error(cli, "predict", bad, bags_file, "-o", tmp_path / "p.npz")


def test_path_arguments_must_be_paths(bags):
    with pytest.raises(TypeError, match="path: expected a path"):
        tutti.load_bags(3)
    with pytest.raises(TypeError, match="out: expected a path"):
        tutti.train(bags, epochs=1, out=5)
    with pytest.raises(TypeError, match="data: expected tutti.Bags"):
        tutti.train([1, 2, 3])


def test_predict_argument_errors(model, bags):
    with pytest.raises(TypeError, match="X: expected dtype uint8 .* got dtype float64"):
        model.predict(bags.X.astype(np.float64))
    with pytest.raises(ValueError, match=r"X: expected shape \(N, K, D\), got \(96, 1280\)"):
        model.predict(bags.X.reshape(96, -1))
    with pytest.raises(ValueError, match=r"n_instances: expected shape \(96,\), got \(95,\)"):
        model.predict(bags.X, bags.n_instances[:95])
    with pytest.raises(TypeError, match="n_instances: expected an integer array, got dtype"):
        model.predict(bags.X, bags.n_instances.astype(np.float32))
    too_many = bags.n_instances.copy()
    too_many[4] = 11
    with pytest.raises(ValueError, match=r"n_instances\[4\] = 11 is outside \[0, K = 10\]"):
        model.predict(bags.X, too_many)
    with pytest.raises(ValueError, match="threads: -1 is negative"):
        model.predict(bags.X, threads=-1)
    # The library's own check: the model was trained on D = 128.
    with pytest.raises(tutti.Error, match="D = 64, the model expects D = 128"):
        model.predict(np.ascontiguousarray(bags.X[:, :, :64]))


def test_predict_accepts_strided_and_list_free_inputs(model, bags):
    # A non-contiguous view is copied once; the result is the same.
    wide = np.zeros(bags.X.shape[:2] + (256,), dtype=np.uint8)
    wide[:, :, ::2] = bags.X
    assert np.array_equal(model.predict(wide[:, :, ::2], bags.n_instances),
                          model.predict(bags.X, bags.n_instances))


def test_instances_needs_instance_outputs(tmp_path, bags):
    rf = tutti.train(bags, "rf", rf_trees=3, threads=1)
    with pytest.raises(ValueError, match="model 'rf' has no per-instance outputs"):
        rf.predict(bags, instances=True)
    assert rf.predict(bags).shape == (len(bags), 3)


def test_train_option_errors(tmp_path, cli, bags, bags_file):
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        tutti.train(bags, epoch=3)
    with pytest.raises(TypeError, match="epochs: expected int, got str"):
        tutti.train(bags, epochs="3")
    with pytest.raises(TypeError, match="seed: expected int, got bool"):
        tutti.train(bags, seed=True)
    with pytest.raises(TypeError, match="model: expected a model name"):
        tutti.train(bags, model=3)
    with pytest.raises(TypeError, match="progress: expected a callable"):
        tutti.train(bags, epochs=1, progress=5)
    out = tmp_path / "x.tutti"
    cases = [
        (dict(epochs=0), ["--epochs", "0"]),
        (dict(learning_rate=-1.0), ["--lr", "-1"]),
        (dict(engine="fast"), None),
        (dict(dropout=5.0), ["--option", "dropout=5.0"]),
    ]
    for kwargs, flags in cases:
        with pytest.raises(tutti.UsageError) as e:
            tutti.train(bags, "att", out=out, **kwargs)
        if flags:
            assert str(e.value) == cli_error(cli, "train", bags_file, "-o", out, *flags)
    with pytest.raises(tutti.UsageError) as e:
        tutti.train(bags, "nope")
    assert "nope" in str(e.value)
    assert not out.exists()


def test_untrainable_data_same_message_as_cli(tmp_path, cli, bags):
    b = tutti.Bags(bags.X, bags.n_instances, bags.Y_true, np.zeros_like(bags.Y_mask),
                   bags.sample_key, bags.classes)
    path = tmp_path / "nolabels.npz"
    b.save(path)
    with pytest.raises(tutti.Error) as e:
        tutti.train(path, epochs=1)
    cli_msg = cli_error(cli, "train", path, "--epochs", 1, "-o", tmp_path / "m.tutti")
    # The CLI names the file where the module says "data".
    assert str(e.value) == cli_msg.replace(str(path), "data")


def test_bags_argument_errors(tmp_path, bags):
    with pytest.raises(ValueError, match=r"bags.Y_true: expected shape \(N, C\) = \(96, 3\)"):
        tutti.save_bags(tmp_path / "b.npz", dict(bags._as_dict(), Y_true=bags.Y_true[:, :2]))
    with pytest.raises(TypeError, match="classes: expected a list of str, got str"):
        tutti.save_bags(tmp_path / "b.npz", dict(bags._as_dict(), classes="flute"))
    with pytest.raises(TypeError, match="bags.classes: expected a list of str, got an item"):
        tutti.save_bags(tmp_path / "b.npz", dict(bags._as_dict(), classes=[1, 2, 3]))
    with pytest.raises(ValueError, match="bags.sample_key: expected 96 keys"):
        tutti.save_bags(tmp_path / "b.npz", dict(bags._as_dict(), sample_key=["a"]))
    with pytest.raises(TypeError, match="bags.Y_true: expected a float array, got dtype <U"):
        tutti.save_bags(tmp_path / "b.npz",
                        dict(bags._as_dict(), Y_true=np.full(bags.Y_true.shape, "x")))
    bad = bags._as_dict()
    bad["Y_true"] = bags.Y_true * 3  # relevance outside [0, 1]: the library's validation
    with pytest.raises(tutti.Error, match=r"Y_true\[0, 0\] = 3 is outside \[0, 1\]"):
        tutti.save_bags(tmp_path / "b.npz", bad)
    assert not os.path.exists(tmp_path / "b.npz")
    with pytest.raises(ValueError, match="X: expected shape"):
        tutti.Bags(np.zeros((3, 4)))


def test_split_and_filter_errors(bags):
    with pytest.raises(tutti.Error):
        tutti.split(bags, 1.5, 1)
    with pytest.raises(tutti.UsageError):
        tutti.filter_bags(bags, min_instances=5, max_instances=2)
    with pytest.raises(tutti.Error, match="cello"):
        tutti.filter_bags(bags, classes=["cello"])


def test_metrics_errors():
    y = np.zeros((4, 2), dtype=np.float32)
    m = np.ones((4, 2), dtype=bool)
    with pytest.raises(ValueError, match=r"scores: expected shape \(N, C\) = \(4, 2\)"):
        tutti.metrics.evaluate(y, m, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Y_mask: expected shape"):
        tutti.metrics.evaluate(y, m[:3], np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Y_true: expected shape \(N, C\)"):
        tutti.metrics.evaluate(np.zeros(4), m, np.zeros((4, 2)))
    with pytest.raises(TypeError, match="scores: expected a float array, got dtype <U"):
        tutti.metrics.evaluate(y, m, np.full((4, 2), "a"))
    with pytest.raises(ValueError, match=r"thresholds: expected shape \(2,\)"):
        tutti.metrics.evaluate(y, m, np.zeros((4, 2)), thresholds=[0.5])
    with pytest.raises(ValueError, match="classes: expected 2 names"):
        tutti.metrics.evaluate(y, m, np.zeros((4, 2)), classes=["a"])
    with pytest.raises(tutti.Error, match=r"score of clip 0 \('0'\) for class 'class_0' is nan"):
        tutti.metrics.evaluate(y, m, np.full((4, 2), np.nan))
