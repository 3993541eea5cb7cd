#!/usr/bin/env python3
"""tools/mma_midi.py: mma's grooves as MIDI files, the same bytes for the same seed wherever the
output folder is, then rendered with labels by `tutti synth --midi` (argv[1], when given).
Exits 77 (skipped) when mma is not installed."""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

from render_midi import render_midi

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "mma_midi.py")


def main():
    if shutil.which("mma") is None:
        print("skipped: mma is not installed")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        a, b, c = (os.path.join(tmp, n) for n in ("a", "b", "c"))
        for out, seed in ((a, 4), (b, 4), (c, 5)):
            r = subprocess.run([sys.executable, TOOL, "--count", "3", "--seed", str(seed),
                                "--bars", "4", "--out", out], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        mids = sorted(f for f in os.listdir(a) if f.endswith(".mid"))
        assert len(mids) == 3, mids
        assert sorted(f for f in os.listdir(b) if f.endswith(".mid")) == mids
        for f in mids:
            with open(os.path.join(a, f), "rb") as fh:
                assert fh.read(4) == b"MThd", f
            assert filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False), f
        assert sorted(f for f in os.listdir(c) if f.endswith(".mid")) != mids  # another seed
        if len(sys.argv) > 1:
            rows, present = render_midi(sys.argv[1], a, "mma", os.path.join(tmp, "synth"))
            assert len(rows) == 3 and all(r["generator"] == "mma" for r in rows), rows
            assert len(present) >= 3, present  # each accompaniment has instruments
    print("mma_midi: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
