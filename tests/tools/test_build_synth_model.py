#!/usr/bin/env python3
"""tools/build_synth_model.sh's training pool (POOL_FONTS): a font that does not exist stops it
before anything is written, naming the file; FluidR3 in the pool is refused by `tutti synth`
(argv[1]) before a training set is rendered. Exits 77 (skipped) without the program, mma or the
fonts."""
import os
import shutil
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "build_synth_model.sh")
TIM = "/usr/share/sounds/sf2/TimGM6mb.sf2"
FLUID = "/usr/share/sounds/sf3/FluidR3Mono_GM.sf3"
OPENMSX = "/usr/share/games/openttd/baseset/openmsx"


def run(out, pool, tutti=None):
    env = dict(os.environ, POOL_FONTS=pool, SYNTH_COMPOSER="2", SYNTH_MMA="1", SYNTH_TEST="2",
               EMBEDDER_EPOCHS="1", ATT_EPOCHS="1", THREADS="1")
    if tutti:
        env["TUTTI_BIN"] = tutti
    return subprocess.run(["bash", SCRIPT, out], capture_output=True, text=True, env=env,
                          timeout=120)


def main():
    if len(sys.argv) < 2 or shutil.which("mma") is None or not all(
            os.path.exists(p) for p in (TIM, FLUID, OPENMSX)):
        print("skipped: needs the tutti program, mma, TimGM6mb, FluidR3Mono and openttd-openmsx")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "missing")
        r = run(out, f"{TIM} {tmp}/nope.sf2")
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert f"{tmp}/nope.sf2 not found" in r.stderr, r.stderr
        assert not os.path.exists(out), os.listdir(out)

        out = os.path.join(tmp, "fluid")
        r = run(out, f"{TIM} {FLUID}", sys.argv[1])
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "FluidR3Mono_GM.sf3 is FluidR3" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(out, "data", "comp_train")), \
            os.listdir(os.path.join(out, "data"))
    print("build_synth_model pool: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
