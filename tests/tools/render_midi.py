"""Shared by the MIDI tool tests: render a folder of MIDI files with `tutti synth --midi` (4 s clips
at 16 kHz) and read back what it wrote. Standard library only."""
import csv
import os
import subprocess


def render_midi(tutti, midi_dir, generator, out):
    """-> (rows of clips.csv, rows of labels.csv with relevance 1); asserts synth succeeded."""
    r = subprocess.run([tutti, "synth", "--midi", midi_dir, "--generator", generator,
                        "--sample-rate", "16000", "--duration", "4", "-o", out],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "clips.csv")) as fh:
        rows = list(csv.DictReader(fh))
    with open(os.path.join(out, "labels.csv")) as fh:
        present = [row for row in csv.DictReader(fh) if row["relevance"] == "1"]
    return rows, present
