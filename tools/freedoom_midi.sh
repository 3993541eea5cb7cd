#!/usr/bin/env bash
# The music of Freedoom (Debian freedoom, BSD-3-Clause): human-written General MIDI songs, extracted
# from the two game data files with deutex (Debian deutex) into OUT as <wad>-<lump>.mid. Songs that
# both files carry are kept once. The second training generator of tools/generalization.sh's
# gen-*+freedoom splits (docs/synth.md).
#   tools/freedoom_midi.sh OUT        (FREEDOOM_WADS: another folder with the two files)
set -euo pipefail
OUT=${1:?usage: tools/freedoom_midi.sh OUT}
WADS=${FREEDOOM_WADS:-/usr/share/games/doom}  # the folder of freedoom1.wad and freedoom2.wad
DEUTEX=/usr/games/deutex
[ ! -e "$OUT" ] || { echo "freedoom_midi: $OUT already exists" >&2; exit 1; }
for f in "$DEUTEX" "$WADS/freedoom1.wad" "$WADS/freedoom2.wad"; do
  [ -e "$f" ] ||
    { echo "freedoom_midi: $f not found (./run installs freedoom and deutex)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for w in freedoom1 freedoom2; do
  # deutex looks for an iwad by its commercial name in the folder given: link it so.
  mkdir -p "$tmp/iwad-$w" "$tmp/$w"
  ln -s "$WADS/$w.wad" "$tmp/iwad-$w/doom2.wad"
  if ! (cd "$tmp/$w" && "$DEUTEX" -doom2 "../iwad-$w" -musics -xtract >"$tmp/$w.log" 2>&1); then
    echo "freedoom_midi: deutex could not extract the music of $WADS/$w.wad:" \
      "$(tail -1 "$tmp/$w.log")" >&2
    exit 1
  fi
done
mkdir -p "$tmp/out"
declare -A seen
for w in freedoom1 freedoom2; do
  for f in "$tmp/$w"/musics/*.mid; do
    h=$(md5sum <"$f" | cut -d' ' -f1)
    [ -z "${seen[$h]:-}" ] || continue
    seen[$h]=1
    cp "$f" "$tmp/out/$w-$(basename "$f")"
  done
done
n=$(ls "$tmp/out" | wc -l)
[ "$n" -gt 0 ] || { echo "freedoom_midi: no music found in $WADS" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
rm -rf "$OUT.tmp" && mv "$tmp/out" "$OUT.tmp" && mv -T "$OUT.tmp" "$OUT"
echo "freedoom_midi: $n songs -> $OUT" >&2
