#!/usr/bin/python3
"""A `tutti synth` folder restricted to the clips of some soundfonts, as a new folder with the same
layout (audio/ holds symbolic links to the original WAVs; labels.csv, strong.csv, instances.csv
and clips.csv keep the rows of the chosen clips). For leave-one-soundfont-out splits
(tools/generalization.sh).

    /usr/bin/python3 tools/subset_synth.py SRC OUT --font TimGM6mb        # only this font's clips
    /usr/bin/python3 tools/subset_synth.py SRC OUT --not-font TimGM6mb    # every other font's

A font is matched by the file name in clips.csv's `soundfont` column (without folder and
extension). Written into OUT.tmp and renamed. Standard library only.
"""
import argparse
import csv
import os
import pathlib
import shutil
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--font")
    g.add_argument("--not-font")
    a = ap.parse_args()
    src, out = pathlib.Path(a.src).resolve(), pathlib.Path(a.out)
    clips = src / "clips.csv"
    if not clips.is_file():
        sys.exit(f"subset_synth: {clips}: missing (randomized synth output has it)")
    keep = set()
    fonts = set()
    with open(clips, newline="") as f:
        for row in csv.DictReader(f):
            font = pathlib.Path(row["soundfont"]).stem
            fonts.add(font)
            if (a.font and font == a.font) or (a.not_font and font != a.not_font):
                keep.add(row["file"])
    name = a.font or a.not_font
    if name not in fonts:
        sys.exit(f"subset_synth: {clips}: no clip of font {name} (fonts: {', '.join(sorted(fonts))})")
    if not keep:
        sys.exit(f"subset_synth: {clips}: no clip left")
    tmp = pathlib.Path(str(out) + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "audio").mkdir(parents=True)
    for wav in sorted(keep):
        os.symlink(src / "audio" / wav, tmp / "audio" / wav)
    for table in ("labels.csv", "strong.csv", "instances.csv", "clips.csv"):
        with open(src / table, newline="") as f, open(tmp / table, "w", newline="") as g:
            r = csv.reader(f)
            w = csv.writer(g, lineterminator="\n")
            header = next(r)
            w.writerow(header)
            col = header.index("file")
            for row in r:
                if row[col] in keep:
                    w.writerow(row)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    print(f"subset_synth: {out}: {len(keep)} clips", file=sys.stderr)


if __name__ == "__main__":
    main()
