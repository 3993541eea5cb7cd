#!/usr/bin/env python3
"""A straightforward pure-Python AudioSet VGGish TFRecord reader, the side-by-side for
bench/bench_audioset_convert.cpp.

Walks the TFRecord framing and the tf.train.SequenceExample protobuf with struct/varint code (no
TensorFlow, no protobuf package), applies the same openmic20 taxonomy mapping as
src/tutti/data/taxonomy.cpp (classes + all ontology descendants, music/singing filter) and prints
the clip count, per-class positive counts and the wall time.

Unlike the C++ reader it does NOT verify the crc32c checksums (a pure-Python crc32c would dominate
the time); pass --verify-crc to check them anyway (slow).

Usage: /usr/bin/python3 bench/audioset_reader.py ../shared/data/audioset/bal_train [--json]
       [--compare build-audioset/bench/bench_audioset_convert]
--compare runs the C++ benchmark (BM_AudioSetBalTrainOpenMic20) right after, checks that both
found the same number of clips and prints the time ratio.
"""
import argparse
import csv
import json
import os
import struct
import subprocess
import sys
import time

OPENMIC20 = [
    ("accordion", ["Accordion"]),
    ("banjo", ["Banjo"]),
    ("bass", ["Bass guitar", "Double bass"]),
    ("cello", ["Cello"]),
    ("clarinet", ["Clarinet"]),
    ("cymbals", ["Cymbal"]),
    ("drums", ["Drum kit", "Drum"]),
    ("flute", ["Flute"]),
    ("guitar", ["Guitar!", "Electric guitar", "Acoustic guitar", "Steel guitar, slide guitar",
                "Tapping (guitar technique)", "Strum"]),  # "!" = the node only, no descendants
    ("mallet_percussion", ["Mallet percussion"]),
    ("mandolin", ["Mandolin"]),
    ("organ", ["Organ"]),
    ("piano", ["Piano"]),
    ("saxophone", ["Saxophone"]),
    ("synthesizer", ["Synthesizer"]),
    ("trombone", ["Trombone"]),
    ("trumpet", ["Trumpet"]),
    ("ukulele", ["Ukulele"]),
    ("violin", ["Violin, fiddle"]),
    ("voice", ["Singing"]),
]
MUSIC_ROOTS = ["Music", "Singing"]


def crc32c(data, _table=[]):
    if not _table:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _table.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = _table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def fields(buf, start=0, end=None):
    """Yields (field_number, wire_type, value) of one message; value is an int for varint and
    fixed types, a (start, end) span for length-delimited ones."""
    pos = start
    end = len(buf) if end is None else end
    while pos < end:
        tag, pos = varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, pos = varint(buf, pos)
            yield num, wt, v
        elif wt == 1:
            yield num, wt, struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == 5:
            yield num, wt, buf[pos:pos + 4]
            pos += 4
        elif wt == 2:
            n, pos = varint(buf, pos)
            yield num, wt, (pos, pos + n)
            pos += n
        else:
            raise ValueError("bad wire type %d" % wt)


def map_entries(buf, span):
    """Features/FeatureLists: repeated map entry (1) {key (1), value (2)}."""
    for num, wt, v in fields(buf, *span):
        if num != 1 or wt != 2:
            continue
        key, val = None, None
        for n2, w2, v2 in fields(buf, *v):
            if n2 == 1 and w2 == 2:
                key = bytes(buf[v2[0]:v2[1]]).decode()
            elif n2 == 2 and w2 == 2:
                val = v2
        yield key, val


def feature_value(buf, span):
    """Feature: bytes_list (1), float_list (2), int64_list (3); each a list in field 1."""
    for num, wt, v in fields(buf, *span):
        out = []
        for n2, w2, v2 in fields(buf, *v):
            if n2 != 1:
                continue
            if num == 1:
                out.append(bytes(buf[v2[0]:v2[1]]))
            elif num == 2:
                if w2 == 2:
                    out.extend(struct.unpack_from("<%df" % ((v2[1] - v2[0]) // 4), buf, v2[0]))
                else:
                    out.append(struct.unpack("<f", v2)[0])
            elif num == 3:
                if w2 == 2:
                    p = v2[0]
                    while p < v2[1]:
                        x, p = varint(buf, p)
                        out.append(x)
                else:
                    out.append(v2)
        return out
    return []


def parse_sequence_example(buf):
    clip = {"frames": []}
    for num, wt, v in fields(buf):
        if num == 1 and wt == 2:
            for key, val in map_entries(buf, v):
                clip[key] = feature_value(buf, val)
        elif num == 2 and wt == 2:
            for key, val in map_entries(buf, v):
                if key == "audio_embedding":
                    for n2, w2, f in fields(buf, *val):
                        if n2 == 1:
                            clip["frames"].extend(feature_value(buf, f))
    return clip


def read_tfrecord(path, verify_crc):
    with open(path, "rb") as f:
        data = memoryview(f.read())
    pos = 0
    while pos < len(data):
        length = struct.unpack_from("<Q", data, pos)[0]
        if verify_crc and struct.unpack_from("<I", data, pos + 8)[0] != masked_crc(data[pos:pos + 8]):
            raise ValueError("%s: length crc mismatch at %d" % (path, pos))
        rec = data[pos + 12:pos + 12 + length]
        if verify_crc and struct.unpack_from("<I", data, pos + 12 + length)[0] != masked_crc(rec):
            raise ValueError("%s: data crc mismatch at %d" % (path, pos))
        pos += 16 + length
        yield parse_sequence_example(rec)


def openmic20_map(meta_dir):
    onto = json.load(open(os.path.join(meta_dir, "ontology.json")))
    by_name = {o["name"]: o for o in onto}
    by_id = {o["id"]: o for o in onto}

    def subtree(name):
        if name.endswith("!"):
            return {by_name[name[:-1]]["id"]}
        out, stack = set(), [by_name[name]["id"]]
        while stack:
            i = stack.pop()
            if i not in out:
                out.add(i)
                stack.extend(by_id[i]["child_ids"])
        return out

    with open(os.path.join(meta_dir, "class_labels_indices.csv")) as f:
        rows = list(csv.DictReader(f))
    index_of_mid = {r["mid"]: int(r["index"]) for r in rows}
    classes = []
    for name, sources in OPENMIC20:
        mids = set().union(*(subtree(s) for s in sources))
        classes.append((name, {index_of_mid[m] for m in mids if m in index_of_mid}))
    music = set().union(*(subtree(s) for s in MUSIC_ROOTS))
    music_idx = {index_of_mid[m] for m in music if m in index_of_mid}
    return classes, music_idx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--verify-crc", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--compare", metavar="BENCH", help="the bench_audioset_convert program")
    args = ap.parse_args()
    meta = os.path.dirname(os.path.abspath(args.folder.rstrip("/")))
    t0, c0 = time.perf_counter(), time.process_time()
    classes, music_idx = openmic20_map(meta)
    files = sorted(f for f in os.listdir(args.folder) if f.endswith(".tfrecord"))
    n_all = 0
    keys, positives, max_frames = [], [0] * len(classes), 0
    for fn in files:
        for clip in read_tfrecord(os.path.join(args.folder, fn), args.verify_crc):
            n_all += 1
            labels = set(clip.get("labels", []))
            for fr in clip["frames"]:
                assert len(fr) == 128
            if not labels & music_idx:
                continue
            max_frames = max(max_frames, len(clip["frames"]))
            start_ms = round(clip["start_time_seconds"][0] * 1000)
            keys.append("%s_%d" % (clip["video_id"][0].decode(), start_ms))
            for c, (_, idx) in enumerate(classes):
                if labels & idx:
                    positives[c] += 1
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"files": len(files), "records": n_all, "clips": len(keys), "max_frames": max_frames,
           "positives": {name: positives[c] for c, (name, _) in enumerate(classes)},
           "first_keys": keys[:3], "seconds": round(dt, 3), "cpu_seconds": round(cpu, 3)}
    if args.json:
        print(json.dumps(out))
    else:
        print("python reader: %d files, %d records, %d music clips (K=%d) in %.3f s (cpu %.3f s)" %
              (len(files), n_all, len(keys), max_frames, dt, cpu))
        print("positives:", " ".join("%s=%d" % kv for kv in out["positives"].items()), flush=True)
    if args.compare:
        env = dict(os.environ, TUTTI_SHARED_DATA=os.path.dirname(meta))
        res = subprocess.run([args.compare, "--benchmark_filter=BM_AudioSetBalTrainOpenMic20",
                              "--benchmark_repetitions=3", "--benchmark_format=json"],
                             env=env, check=True, capture_output=True, text=True)
        runs = [b for b in json.loads(res.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
        assert runs, "the C++ benchmark reported nothing (data not found?)"
        cpp_s = min(b["real_time"] for b in runs) / 1000.0  # ms -> s
        cpp_cpu = min(b["cpu_time"] for b in runs) / 1000.0
        cpp_clips = int(runs[0]["clips"])
        print("C++ read_audioset (best of %d, threads=1, crcs verified): %d clips in %.3f s "
              "(cpu %.3f s)" % (len(runs), cpp_clips, cpp_s, cpp_cpu))
        print("ratio python / C++: %.1fx wall, %.1fx cpu%s" % (
            dt / cpp_s, cpu / cpp_cpu, "" if cpp_clips == len(keys) else
            "  (CLIP COUNTS DIFFER: %d vs %d)" % (len(keys), cpp_clips)))


if __name__ == "__main__":
    main()
