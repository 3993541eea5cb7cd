"""Datasets from Python: numpy's own .npz reader/writer and the CLI's data commands as references."""
import os

import numpy as np
import pytest

import tutti
from conftest import REPO, run_cli

SHARED = os.environ.get("TUTTI_SHARED_DATA") or os.path.join(os.path.dirname(REPO), "shared",
                                                              "data")


def assert_same_bags(a, b):
    assert np.array_equal(a.X, b.X) and a.X.dtype == b.X.dtype
    assert np.array_equal(a.n_instances, b.n_instances)
    assert np.array_equal(a.Y_true, b.Y_true)
    assert np.array_equal(np.asarray(a.Y_mask, bool), np.asarray(b.Y_mask, bool))
    assert list(a.sample_key) == list(b.sample_key) and list(a.classes) == list(b.classes)


def test_load_reads_numpy_npz(bags, bags_file):
    got = tutti.load_bags(bags_file)
    assert got.X.dtype == np.uint8 and got.X.shape == bags.X.shape
    assert got.n_instances.dtype == np.int32 and got.Y_mask.dtype == bool
    assert got.Y_instance is None
    assert_same_bags(got, bags)


def test_save_is_read_by_numpy(tmp_path, bags):
    y_inst = np.zeros(bags.X.shape[:2] + (3,), dtype=np.uint8)
    y_inst[0, 0, 1] = 1
    b = tutti.Bags(bags.X, bags.n_instances, bags.Y_true, bags.Y_mask, bags.sample_key,
                   bags.classes, Y_instance=y_inst, embedder="logmel-stats")
    tutti.save_bags(tmp_path / "b.npz", b)
    z = np.load(tmp_path / "b.npz")
    assert np.array_equal(z["X"], bags.X) and z["X"].dtype == np.uint8
    assert np.array_equal(z["Y_mask"], bags.Y_mask) and z["Y_mask"].dtype == bool
    assert np.array_equal(z["Y_instance"], y_inst)
    assert list(z["sample_key"]) == bags.sample_key and str(z["embedder"]) == "logmel-stats"
    back = tutti.load_bags(tmp_path / "b.npz")
    assert_same_bags(back, b)
    assert np.array_equal(back.Y_instance, y_inst) and back.embedder == "logmel-stats"


def test_float_features_round_trip(tmp_path, bags):
    X = (bags.X / 255.0).astype(np.float32)
    b = tutti.Bags(X, bags.n_instances, bags.Y_true, bags.Y_mask, bags.sample_key, bags.classes)
    b.save(tmp_path / "f.npz")
    back = tutti.load_bags(tmp_path / "f.npz")
    assert back.X.dtype == np.float32 and np.array_equal(back.X, X)


def test_split_equals_cli(tmp_path, cli, bags, bags_file):
    run_cli(cli, "data", "split", bags_file, "--test-fraction", 0.25, "--seed", 4,
            "--train-out", tmp_path / "tr.npz", "--test-out", tmp_path / "te.npz")
    train, test = tutti.split(bags, 0.25, 4)
    assert_same_bags(train, tutti.load_bags(tmp_path / "tr.npz"))
    assert_same_bags(test, tutti.load_bags(tmp_path / "te.npz"))


def test_filter(bags):
    got, report = tutti.filter_bags(bags, min_instances=5, classes=["violin", "flute"])
    keep = bags.n_instances >= 5
    assert report["kept"] == int(keep.sum()) and report["dropped"] == int((~keep).sum())
    assert got.classes == ["violin", "flute"]
    assert np.array_equal(got.Y_true, bags.Y_true[keep][:, [2, 0]])
    assert np.array_equal(got.X, bags.X[keep])


def test_convert_audioset_fixture_equals_cli(tmp_path, cli):
    shards = os.path.join(REPO, "tests", "fixtures", "audioset", "good")
    meta = os.path.join(REPO, "tests", "fixtures", "audioset", "meta")
    run_cli(cli, "data", "convert", "audioset", shards, "--metadata", meta, "-o",
            tmp_path / "a.npz")
    got = tutti.convert_audioset(shards, out=tmp_path / "b.npz", metadata_dir=meta)
    assert len(got) > 0
    assert_same_bags(got, tutti.load_bags(tmp_path / "a.npz"))
    assert_same_bags(tutti.load_bags(tmp_path / "b.npz"), got)
    assert tutti.convert_audioset.defaults["taxonomy"] == "openmic20"


@pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "audioset", "unbal_train")),
                    reason=f"no AudioSet data at {SHARED} (set TUTTI_SHARED_DATA)")
def test_convert_real_audioset_equals_cli(tmp_path, cli):
    src = os.path.join(SHARED, "audioset", "unbal_train")
    meta = os.path.join(SHARED, "audioset")
    run_cli(cli, "data", "convert", "audioset", src, "--metadata", meta, "-o", tmp_path / "a.npz")
    got = tutti.convert_audioset(src, metadata_dir=meta, threads=2)
    assert len(got) > 100 and got.X.shape[1:] == (10, 128)
    assert_same_bags(got, tutti.load_bags(tmp_path / "a.npz"))


def test_convert_openmic_release_equals_cli(tmp_path, cli, bags):
    """A release folder of the official layout (openmic-2018.npz without n_instances/classes,
    class-map.json, partitions/split01_*.csv) written here with numpy."""
    root = tmp_path / "openmic-2018"
    (root / "partitions").mkdir(parents=True)
    names = [f"{i:06d}_{i * 10}" for i in range(len(bags))]
    np.savez(root / "openmic-2018.npz", X=bags.X, Y_true=bags.Y_true.astype(np.float64),
             Y_mask=bags.Y_mask, sample_key=np.array(names))
    (root / "class-map.json").write_text(
        "{" + ", ".join(f'"{c}": {i}' for i, c in enumerate(bags.classes)) + "}")
    (root / "partitions" / "split01_train.csv").write_text("\n".join(names[:70]) + "\n")
    (root / "partitions" / "split01_test.csv").write_text("\n".join(names[70:]) + "\n")
    for split in ("train", "test"):
        run_cli(cli, "data", "convert", "openmic", root, "--split", split, "-o",
                tmp_path / f"{split}.npz")
        got = tutti.convert_openmic(root, split)
        assert_same_bags(got, tutti.load_bags(tmp_path / f"{split}.npz"))
        assert len(got) == (70 if split == "train" else len(bags) - 70)
    with pytest.raises(tutti.Error, match="nosuch"):
        tutti.convert_openmic(root, "train", partition="nosuch")
