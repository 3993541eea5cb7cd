"""tutti from Python: which instruments play in polyphonic music, and when.

A numpy API over tutti's C++ library (the same code as the `tutti` command line):

    import tutti
    train = tutti.load_bags("train.npz")                 # tutti.Bags of numpy arrays
    test = tutti.load_bags("test.npz")
    model = tutti.train(train, model="att", seed=1, epochs=20, threads=2)
    scores = model.predict(test.X, test.n_instances)     # (N, C) float32
    report = tutti.metrics.evaluate(test.Y_true, test.Y_mask, scores, model.thresholds)

Errors of the library are raised as tutti.Error (tutti.UsageError, also a ValueError, for
impossible options) with the same one-line message as the command line; a wrong argument type or
shape is a TypeError or ValueError naming the argument. Long calls release the GIL.
Reference: docs/python.md.
"""

import os as _os

# As the command line: OpenBLAS runs single-threaded inside LibTorch's own threads
# (oversubscription made training several times slower, docs/benchmarks.md), and idle OpenMP
# workers sleep instead of spinning (what the CLI chooses when other processes share the cores, as
# a notebook's kernel always does). Both libraries read these once, when they load, so they are
# set before the extension (and numpy) load them. Values the user set are kept.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import collections as _collections  # noqa: E402
import inspect as _inspect  # noqa: E402

import numpy as _np  # noqa: E402

from . import _tutti  # noqa: E402
from ._tutti import Error, UsageError  # noqa: E402
from . import metrics  # noqa: E402,F401

__version__ = _tutti.__version__

__all__ = [
    "Bags", "Error", "Model", "Predictions", "Segment", "TagResult", "UsageError",
    "convert_audioset", "convert_openmic", "embed", "embedder_names", "filter_bags", "load_bags",
    "metrics", "models", "save_bags",
    "split", "train", "train_options",
]


# ---- datasets ------------------------------------------------------------------------------------

class Bags:
    """A bag dataset (the arrays of tutti's .npz files, docs/data.md).

    X            (N, K, D) uint8 (as released) or float32, zero-padded instances
    n_instances  (N,) int32, real instances per clip (<= K)
    Y_true       (N, C) float32 relevance in [0, 1]
    Y_mask       (N, C) bool, True where the label is known
    sample_key   list of N str
    classes      list of C str
    Y_instance   (N, K, C) uint8 strong labels, or None
    embedder     str, what made X ("vggish", "logmel-stats"; "" = unknown)

    Missing labels default to none known (Y_true zeros, Y_mask False), keys to "0".."N-1" and
    n_instances to K; the arrays are checked when the library uses them.
    """

    __slots__ = ("X", "n_instances", "Y_true", "Y_mask", "sample_key", "classes", "Y_instance",
                 "embedder")

    def __init__(self, X, n_instances=None, Y_true=None, Y_mask=None, sample_key=None,
                 classes=None, Y_instance=None, embedder=""):
        X = _np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X: expected shape (N, K, D), got {X.shape}")
        n, k = X.shape[0], X.shape[1]
        for arg, v in (("classes", classes), ("sample_key", sample_key)):
            if isinstance(v, (str, bytes)):
                raise TypeError(f"{arg}: expected a list of str, got {type(v).__name__}")
        self.X = X
        self.n_instances = (_np.full(n, k, dtype=_np.int32) if n_instances is None
                            else _np.asarray(n_instances))
        if classes is None:
            classes = ([f"class_{i}" for i in range(_np.shape(Y_true)[1])]
                       if Y_true is not None else [])
        self.classes = list(classes)
        c = len(self.classes)
        self.Y_true = (_np.zeros((n, c), dtype=_np.float32) if Y_true is None
                       else _np.asarray(Y_true))
        if Y_mask is None:
            Y_mask = _np.full((n, c), Y_true is not None, dtype=bool)
        self.Y_mask = _np.asarray(Y_mask)
        self.sample_key = [str(i) for i in range(n)] if sample_key is None else list(sample_key)
        self.Y_instance = None if Y_instance is None else _np.asarray(Y_instance)
        self.embedder = embedder

    @classmethod
    def _from_dict(cls, d):
        b = cls.__new__(cls)
        for name in cls.__slots__:
            setattr(b, name, d.get(name))
        return b

    def _as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __len__(self):
        return self.X.shape[0]

    def __repr__(self):
        n, k, d = self.X.shape
        return (f"tutti.Bags(N={n}, K={k}, D={d}, C={len(self.classes)}, dtype={self.X.dtype}, "
                f"embedder={self.embedder!r})")

    def subset(self, rows):
        """The clips at `rows` (indices or a bool mask), in that order."""
        rows = _np.asarray(rows)
        if rows.dtype == bool:
            rows = _np.flatnonzero(rows)
        b = Bags.__new__(Bags)
        b.X, b.n_instances = self.X[rows], _np.asarray(self.n_instances)[rows]
        b.Y_true, b.Y_mask = _np.asarray(self.Y_true)[rows], _np.asarray(self.Y_mask)[rows]
        b.sample_key = [self.sample_key[i] for i in rows]
        b.classes = list(self.classes)
        b.Y_instance = None if self.Y_instance is None else self.Y_instance[rows]
        b.embedder = self.embedder
        return b

    def save(self, path):
        """Writes the dataset as an .npz (atomically); same as tutti.save_bags(path, self)."""
        save_bags(path, self)


def _fspath(path, arg):
    if not isinstance(path, (str, _os.PathLike)):
        raise TypeError(f"{arg}: expected a path (str or os.PathLike), got {type(path).__name__}")
    return _os.fspath(path)


def _bags(data, arg="data"):
    """Bags, a path to an .npz, or Bags' arguments as a dict or a tuple of arrays -> Bags."""
    if isinstance(data, Bags):
        return data
    if isinstance(data, (str, _os.PathLike)):
        return load_bags(data)
    if isinstance(data, dict):
        return Bags(**data)
    if isinstance(data, tuple):
        return Bags(*data)
    raise TypeError(f"{arg}: expected tutti.Bags, a path to an .npz, a dict or a tuple of "
                    f"arrays (Bags' arguments), got {type(data).__name__}")


def load_bags(path):
    """Loads an OpenMIC-style .npz bag dataset (as `tutti data` writes it) -> Bags."""
    return Bags._from_dict(_tutti.load_bags(_fspath(path, "path")))


def save_bags(path, bags):
    """Writes `bags` (Bags or a dict of arrays) as an .npz numpy can open, atomically."""
    _tutti.save_bags(_fspath(path, "path"), _bags(bags, "bags")._as_dict())


def _maybe_save(bags, out):
    if out is not None:
        save_bags(out, bags)
    return bags


def convert_audioset(path, out=None, metadata_dir=None, **options):
    """Reads AudioSet's released embeddings (a folder of .tfrecord shards or one shard) -> Bags,
    as `tutti data convert --format audioset`; also written to `out` when given.

    metadata_dir: the folder with class_labels_indices.csv and ontology.json (default: found next
    to the data). Options (their defaults: tutti.convert_audioset.defaults): taxonomy, music_only,
    select_labels, threads, max_instances.
    """
    d = _tutti.read_audioset(_fspath(path, "path"),
                             "" if metadata_dir is None else _fspath(metadata_dir, "metadata_dir"),
                             options)
    return _maybe_save(Bags._from_dict(d), out)


convert_audioset.defaults = _tutti.audioset_defaults()


def convert_openmic(root, split="train", partition="split01", max_instances=10, out=None):
    """Reads the OpenMIC-2018 release at `root` -> Bags, as `tutti data convert --format openmic`.

    split "train" or "test" (with the partition's key lists), "all", or "clips" (the per-clip
    VGGish JSON files and aggregated labels, up to max_instances instances per clip).
    """
    d = _tutti.read_openmic(_fspath(root, "root"), split, partition, max_instances)
    return _maybe_save(Bags._from_dict(d), out)


def split(data, test_fraction, seed):
    """A seeded split stratified by label (as `tutti data split`) -> (train Bags, test Bags)."""
    b = _bags(data)
    train_rows, test_rows = _tutti.stratified_split(b._as_dict(), float(test_fraction), seed)
    return b.subset(train_rows), b.subset(test_rows)


def filter_bags(data, instances=-1, min_instances=0, max_instances=-1, with_any=(),
                without_any=(), classes=(), trim_k=False):
    """Clips and classes kept by the conditions of `tutti data filter` -> (Bags, report dict).

    instances: exactly this many instances (-1: any); min_instances / max_instances (-1: no
    bound); with_any / without_any: class names with a known positive; classes: the columns
    kept, in order (empty: all); trim_k: K = the longest kept clip.
    """
    d, report = _tutti.filter_bags(_bags(data)._as_dict(), instances, min_instances,
                                   max_instances, list(with_any), list(without_any),
                                   list(classes), trim_k)
    return Bags._from_dict(d), report


# ---- models --------------------------------------------------------------------------------------

Predictions = _collections.namedtuple("Predictions", ["scores", "instance_prob", "attention"])
Predictions.__doc__ = """Model.predict(..., instances=True): scores (N, C), instance_prob
(N, K, C) per-instance probabilities, attention (N, K, C) normalized attention weights (ATT) or
None."""

Segment = _collections.namedtuple("Segment", ["instrument", "start_s", "end_s",
                                              "mean_probability"])


class TagResult:
    """Model.tag(): which instruments play in one recording, and when.

    classes, probability (C,) clip level, thresholds (C,), present (C,) bool; the timeline
    (T instances of hop_s seconds): start_s, end_s (T,), window_prob (T, C), instance_prob and
    attention (T, C) for models with instance outputs (else None); timeline (T, C) is
    instance_prob when present, else window_prob; segments: list of Segment. to_json() is the
    object `tutti tag --json` prints for the file.
    """

    def __init__(self, d):
        self._json = d.pop("json")
        self.__dict__.update(d)
        self.segments = [Segment(s["instrument"], s["start_s"], s["end_s"], s["mean_probability"])
                         for s in self._json.get("segments", [])]

    @property
    def timeline(self):
        return self.instance_prob if self.instance_prob is not None else self.window_prob

    def to_json(self):
        return self._json

    def __repr__(self):
        on = [c for c, p in zip(self.classes, self.present) if p]
        return f"tutti.TagResult({self.duration_s:.1f} s, present={on})"


class Model:
    """A trained tutti model (.tutti file): Model.load(path) or tutti.train(...)."""

    def __init__(self, impl):
        self._m = impl

    @classmethod
    def load(cls, path):
        """Reads and checks a .tutti model file."""
        return cls(_tutti.Model.load(_fspath(path, "path")))

    def save(self, path):
        """Writes the model file (atomically): the bytes `tutti train` wrote."""
        self._m.save(_fspath(path, "path"))

    @property
    def name(self):
        """The model type ("att", "fc", "rf", ...)."""
        return self._m.name

    @property
    def classes(self):
        return self._m.classes

    @property
    def thresholds(self):
        """(C,) float32 decision thresholds chosen on the validation data (max F1)."""
        return self._m.thresholds

    @property
    def config(self):
        """The training configuration (TrainConfig JSON: seed, epochs, learning_rate, ...)."""
        return self._m.info["train_config"]

    @property
    def info(self):
        """Everything in the file's meta.json (spec, features, training history, ...)."""
        return self._m.info

    @property
    def path(self):
        """The file the model was loaded from or trained into (None: in memory only)."""
        return self._m.path or None

    def predict(self, X, n_instances=None, instances=False, threads=0):
        """Clip probabilities (N, C) float32 for X (N, K, D) uint8 or float32 (or a Bags), as
        `tutti predict`. n_instances (N,): real instances per clip (None: all K). With
        instances=True a Predictions(scores, instance_prob, attention). threads 0 = all cores.
        """
        if isinstance(X, Bags):
            if n_instances is None:
                n_instances = X.n_instances
            X = X.X
        r = self._m.predict(X, n_instances, bool(instances), threads)
        if not instances:
            return r["scores"]
        return Predictions(r["scores"], r["instance_prob"], r["attention"])

    def tag(self, audio, sample_rate=None, vggish=None):
        """Tags one recording, as `tutti tag`: `audio` is a file path, or a waveform (samples,)
        or (samples, channels) float array with its sample_rate in Hz -> TagResult. vggish: the
        VGGish weights file for VGGish models (default: $TUTTI_VGGISH, then the usual place)."""
        vg = "" if vggish is None else _fspath(vggish, "vggish")
        return TagResult(self._m.tag(audio, sample_rate, vg))

    def __repr__(self):
        return f"tutti.Model({self.name}, {len(self.classes)} classes, path={self.path!r})"


def embed(audio, sample_rate=None, embedder="logmel-stats", max_instances=0):
    """Features of one recording, as `tutti embed`: (K, D) uint8, one row per 0.96 s example.

    audio: a file path, or a waveform (samples,) / (samples, channels) with sample_rate in Hz.
    embedder: a name (tutti.embedder_names()) or the path of a VGGish weights file
    (.tutti-embedder, from `tutti models import-vggish`). max_instances: keep the first ones
    (0 = all).
    """
    if not isinstance(embedder, (str, _os.PathLike)):
        raise TypeError(f"embedder: expected a name or a path, got {type(embedder).__name__}")
    name, weights = embedder, ""
    path = _os.fspath(embedder)
    if isinstance(embedder, _os.PathLike) or (
            path not in _tutti.embedder_names()
            and (_os.path.sep in path or path.endswith(".tutti-embedder"))):
        name, weights = "vggish", path
    return _tutti.embed(audio, sample_rate, name, weights, max_instances)


def embedder_names():
    """The embedders tutti knows ("vggish", "logmel-stats", ...)."""
    return _tutti.embedder_names()


# ---- training: signature and docstring generated from the declarations --------------------------

_TRAIN_OPTIONS = _tutti.train_options()          # train/train_config.cpp, in declaration order
_MODELS = _tutti.model_declarations()           # models/model_decl.cpp (+ aliases)
_PY_TYPES = {"int": (int,), "float": (int, float), "str": (str,)}


def train_options():
    """The declared training options: dicts with key, flag (of `tutti train`), group, type,
    default (None: the model's), default_text, rule, choices, file (a path), help."""
    return [dict(o) for o in _TRAIN_OPTIONS]


def models():
    """The declared models and aliases: name, summary, their options (key, type, default,
    describe, help) and training defaults (`tutti models list`)."""
    return [dict(m) for m in _MODELS]


def _model_decl(name):
    for m in _MODELS:
        if m["name"] == name:
            return m
    return None


def _model_option_keys(model):
    m = _model_decl(model)
    if m is None:
        return []
    if "alias_of" in m:
        return _model_option_keys(m["alias_of"])
    return [o["key"] for o in m["options"]]


def train(data, model="att", *, out=None, progress=None, model_options=None, **options):
    """(generated below from the declarations)"""
    if not isinstance(model, str):
        raise TypeError(f"model: expected a model name (str), got {type(model).__name__}")
    bags = _bags(data)
    decls = {o["key"]: o for o in _TRAIN_OPTIONS}
    model_keys = _model_option_keys(model)
    overrides, mo = {}, dict(model_options or {})
    for key, value in options.items():
        if key in decls:
            if value is None:
                continue
            want = decls[key]["type"]
            if decls[key]["file"] and isinstance(value, _os.PathLike):
                value = _os.fspath(value)
            if isinstance(value, bool) or not isinstance(value, _PY_TYPES[want]):
                raise TypeError(f"train(): {key}: expected {want}, got {type(value).__name__}")
            overrides[key] = value
        elif key in model_keys:
            mo[key] = value.tolist() if isinstance(value, _np.ndarray) else value
        else:
            raise TypeError(
                f"train() got an unexpected keyword argument '{key}' (training options: "
                f"{', '.join(decls)}; options of model '{model}': {', '.join(model_keys) or 'none'})")
    if mo:
        overrides["model_options"] = mo
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable, got {type(progress).__name__}")
    target = "" if out is None else _fspath(out, "out")
    return Model(_tutti.train(bags._as_dict(), model, overrides, target, progress))


def _train_doc():
    lines = [
        "Trains a model on a bag dataset, as `tutti train` does -> tutti.Model.",
        "",
        "data: tutti.Bags, a path to an .npz, or a dict or tuple of arrays (X, n_instances,",
        "Y_true, Y_mask, sample_key, classes). model: one of the names below. out: also write the",
        "model file there (atomically; nothing is written when training fails or is",
        "interrupted). progress: called after each epoch of a neural model with a dict",
        "{epoch, epochs, train_loss, val_loss, val_map, seconds}; an exception it raises stops",
        "training and propagates. Ctrl-C raises KeyboardInterrupt within one training step.",
        "The same data, options, seed and threads give the same model as `tutti train`.",
        "",
        "Models (model options as keyword arguments or model_options={...}):",
    ]
    for m in _MODELS:
        lines.append(f"  {m['name']:<14} {m['summary']}")
        if "alias_of" in m:
            continue
        for o in m["options"]:
            lines.append(f"      {o['key']}: {o['describe']}. {o['help']}")
    group = None
    for o in _TRAIN_OPTIONS:
        if o["group"] != group:
            group = o["group"]
            lines += ["", f"{group} options:"]
        rule = f"; {o['rule']}" if o["rule"] else ""
        lines.append(f"  {o['key']} ({o['type']}, default {o['default_text']}{rule}): {o['help']}")
    return "\n".join(lines)


train.__doc__ = _train_doc()
train.__signature__ = _inspect.Signature(
    [_inspect.Parameter("data", _inspect.Parameter.POSITIONAL_OR_KEYWORD),
     _inspect.Parameter("model", _inspect.Parameter.POSITIONAL_OR_KEYWORD, default="att")]
    + [_inspect.Parameter(n, _inspect.Parameter.KEYWORD_ONLY, default=None)
       for n in ("out", "progress", "model_options")]
    + [_inspect.Parameter(o["key"], _inspect.Parameter.KEYWORD_ONLY, default=o["default"])
       for o in _TRAIN_OPTIONS]
    + [_inspect.Parameter("model_option", _inspect.Parameter.VAR_KEYWORD)])
