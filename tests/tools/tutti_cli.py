"""What the tests of tools/ that drive the tutti CLI share: the repository's paths, the small
training and test fixtures, and the binary given as argument 1 (exit 77, ctest's "skipped", when
none is given)."""
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TRAIN = os.path.join(ROOT, "tests", "fixtures", "train", "train_small.npz")
TEST = os.path.join(ROOT, "tests", "fixtures", "train", "test_small.npz")


def tool(name):
    return os.path.join(ROOT, "tools", name)


def tutti_binary():
    if len(sys.argv) < 2 or not os.path.exists(sys.argv[1]):
        print("skipped: no tutti binary given")
        sys.exit(77)
    return sys.argv[1]
