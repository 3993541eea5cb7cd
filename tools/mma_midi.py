#!/usr/bin/env python3
"""Human-written accompaniment patterns as MIDI files, for `tutti synth --midi DIR --generator mma`.

Writes COUNT random chord charts and runs Debian's `mma` (Musical MIDI Accompaniment) on each: the
charts are random (groove, tempo, key, progression), the patterns come from mma's groove library,
which people wrote by hand for each style. Every chart starts with `RndSeed`, so the same --seed
gives the same MIDI bytes.

    tools/mma_midi.py --count 50 --seed 1 --out /tmp/mma_midi
    build/tutti synth --midi /tmp/mma_midi --generator mma --effects --duration 10 -o data/mma

Needs the `mma` package (./run installs it). Standard library only.
"""
import argparse
import pathlib
import random
import re
import subprocess
import sys

STDLIB = pathlib.Path("/usr/share/mma/lib/stdlib")
# Common progressions, as scale degrees (major key); minor keys use the relative minor's chart.
PROGRESSIONS = [
    ["I", "V", "vi", "IV"], ["I", "vi", "IV", "V"], ["ii", "V", "I", "I"], ["I", "IV", "V", "IV"],
    ["vi", "IV", "I", "V"], ["I", "IV", "I", "V"], ["I", "iii", "IV", "V"], ["I", "bVII", "IV", "I"],
]
DEGREES = {"I": (0, ""), "ii": (2, "m"), "iii": (4, "m"), "IV": (5, ""), "V": (7, "7"),
           "vi": (9, "m"), "bVII": (10, "")}
NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]


def grooves():
    """Groove names defined in mma's standard library, sorted (so a seed picks the same ones)."""
    found = set()
    for f in sorted(STDLIB.glob("*.mma")):
        for line in f.read_text(errors="replace").splitlines():
            m = re.match(r"\s*defgroove\s+(\S+)", line, re.IGNORECASE)
            if m:
                found.add(m.group(1))
    return sorted(found)


def chart(rng, groove, bars):
    tonic = rng.randrange(12)
    prog = rng.choice(PROGRESSIONS)
    lines = [f"RndSeed {rng.randrange(1 << 30)}", f"Tempo {rng.randint(70, 160)}",
             f"Groove {groove}"]
    for b in range(bars):
        step, quality = DEGREES[prog[b % len(prog)]]
        lines.append(f"{b + 1} {NAMES[(tonic + step) % 12]}{quality}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20, help="charts (MIDI files) to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bars", type=int, default=8, help="bars per chart")
    ap.add_argument("--out", required=True, help="output folder (created)")
    a = ap.parse_args()
    if a.count < 1 or a.bars < 1:
        sys.exit("mma_midi: --count and --bars must be >= 1")
    names = grooves()
    if not names:
        sys.exit(f"mma_midi: no grooves in {STDLIB} (install the mma package)")
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(a.seed)
    failed = 0
    for i in range(a.count):
        groove = rng.choice(names)
        src = out / f"mma_{i:05d}.mma"
        src.write_text(chart(rng, groove, a.bars))
        mid = out / f"mma_{i:05d}_{groove}.mid"
        # Run inside the folder with bare names: mma writes the input name into the MIDI file, so
        # the bytes then do not depend on where the folder is.
        r = subprocess.run(["mma", src.name, "-f", mid.name], capture_output=True, text=True,
                           timeout=120, cwd=out)
        if r.returncode != 0 or not mid.exists():
            failed += 1
            print(f"mma_midi: {src}: mma failed: {r.stdout.strip()[-200:]}", file=sys.stderr)
    print(f"{a.count - failed} MIDI files in {out} ({failed} failed)")
    return 1 if failed == a.count else 0


if __name__ == "__main__":
    sys.exit(main())
