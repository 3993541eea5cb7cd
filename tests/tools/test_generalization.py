#!/usr/bin/env python3
"""tools/generalization.sh when a step fails: one line naming the failed command and its last
message, a non-zero exit, and no embedder lock left behind, so that a rerun fails the same way
instead of skipping the split as if another run trained it. The tutti program is a stand-in that
fails (a real training set takes minutes); standard-library Python only."""
import glob
import os
import stat
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "generalization.sh")

FAILING_TUTTI = """#!/bin/sh
printf 'train-embedder [#####     ] 50%%\\r' >&2
echo "tutti: train-embedder: $2: no WAV files" >&2
exit 1
"""


def run(data, out, tutti):
    env = dict(os.environ, TUTTI_BIN=tutti, GEN_EPOCHS="1", ATT_EPOCHS="1", THREADS="1")
    return subprocess.run(["bash", SCRIPT, data, out, "gen-comp"], capture_output=True, text=True,
                          env=env, timeout=60)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(os.path.join(data, "comp_train"))
        tutti = os.path.join(tmp, "tutti")
        with open(tutti, "w") as f:
            f.write(FAILING_TUTTI)
        os.chmod(tutti, os.stat(tutti).st_mode | stat.S_IXUSR)
        out = os.path.join(tmp, "out")
        for attempt in (1, 2):
            r = run(data, out, tutti)
            assert r.returncode == 1, (attempt, r.returncode, r.stderr)
            lines = [l for l in r.stderr.splitlines() if l.startswith("generalization.sh: failed")]
            assert len(lines) == 1, (attempt, r.stderr)
            assert "(exit 1)" in lines[0] and "train-embedder" in lines[0], lines[0]
            assert lines[0].endswith(f"tutti: train-embedder: {data}/comp_train: no WAV files"), \
                lines[0]
            assert "another run trains" not in r.stderr, (attempt, r.stderr)
            assert not glob.glob(os.path.join(out, "*", "*.lock")), attempt
            assert not glob.glob(os.path.join(out, "*", "*.tutti-embedder")), attempt
    print("generalization failure: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
