#!/usr/bin/env python3
"""tools/freedoom_midi.sh: the Freedoom songs as MIDI files, each song once, the same files on a
second run; a game data file deutex cannot read names the file and leaves no output folder; the
songs render with labels by `tutti synth --midi` (argv[1], when given).
Exits 77 (skipped) when freedoom or deutex is not installed."""
import filecmp
import hashlib
import os
import subprocess
import sys
import tempfile

from render_midi import render_midi

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "freedoom_midi.sh")
WADS = "/usr/share/games/doom"


def run(out, env=None):
    return subprocess.run(["bash", TOOL, out], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


def main():
    if not (os.path.exists("/usr/games/deutex") and os.path.exists(f"{WADS}/freedoom2.wad")):
        print("skipped: freedoom or deutex is not installed")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        for out in (a, b):
            r = run(out)
            assert r.returncode == 0, r.stderr
        mids = sorted(os.listdir(a))
        # Freedoom 0.12 has 32 songs in freedoom1.wad and 35 in freedoom2.wad, one in both.
        assert len(mids) >= 60 and all(m.endswith(".mid") for m in mids), mids
        assert any(m.startswith("freedoom1-") for m in mids)
        assert any(m.startswith("freedoom2-") for m in mids)
        digests = set()
        for m in mids:
            with open(os.path.join(a, m), "rb") as fh:
                data = fh.read()
            assert data[:4] == b"MThd", m
            digests.add(hashlib.md5(data).hexdigest())
            assert filecmp.cmp(os.path.join(a, m), os.path.join(b, m), shallow=False), m
        assert len(digests) == len(mids)  # no song twice
        assert sorted(os.listdir(b)) == mids
        r = run(a)  # an existing output folder is not overwritten
        assert r.returncode == 1 and f"{a} already exists" in r.stderr, r.stderr
        assert sorted(os.listdir(a)) == mids

        # A damaged game data file: one line naming it, exit 1, no output folder.
        bad = os.path.join(tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "freedoom1.wad"), "wb") as fh:
            fh.write(b"IWAD\xff\xff\xff\x7f\x00\x00\x00\x10")
        os.symlink(f"{WADS}/freedoom2.wad", os.path.join(bad, "freedoom2.wad"))
        c = os.path.join(tmp, "c")
        r = run(c, {"FREEDOOM_WADS": bad})
        assert r.returncode == 1, r
        assert f"{bad}/freedoom1.wad" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not os.path.exists(c)
        # A folder without the files names the missing one.
        r = run(c, {"FREEDOOM_WADS": tmp})
        assert r.returncode == 1 and f"{tmp}/freedoom1.wad not found" in r.stderr, r.stderr
        assert not os.path.exists(c)

        if len(sys.argv) > 1:
            one = os.path.join(tmp, "one")
            os.makedirs(one)
            song = "freedoom1-d_e1m1.mid"  # E1M1's song: drums, bass, guitar
            assert song in mids, mids
            os.symlink(os.path.join(a, song), os.path.join(one, song))
            rows, present = render_midi(sys.argv[1], one, "freedoom", os.path.join(tmp, "synth"))
            assert len(rows) == 1 and rows[0]["generator"] == "freedoom", rows
            assert len(present) >= 1, present
    print("freedoom_midi: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
