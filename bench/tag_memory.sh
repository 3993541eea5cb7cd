#!/usr/bin/env bash
# Peak memory and time of `tutti tag` on a 1-hour 44.1 kHz stereo WAV (target: < 500 MB).
#   bench/tag_memory.sh BUILD_DIR [SECONDS]
# Makes a small logmel-stats model (20 generated 10 s clips, ATT, 3 epochs) and the long file with
# bench_embed --write-wav, then runs `tutti tag --json` under /usr/bin/time -v.
set -euo pipefail
build=${1:?usage: bench/tag_memory.sh BUILD_DIR [SECONDS]}
seconds=${2:-3600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$(dirname "$0")/small_logmel_model.sh" "$build" "$work"
"$build/bench/bench_embed" --write-wav "$work/long.wav" "$seconds"
ls -l "$work/long.wav"
/usr/bin/time -v "$build/tutti" tag --model "$work/m.tutti" "$work/long.wav" --json \
  > "$work/tags.json" 2> "$work/time.txt" || { cat "$work/time.txt"; exit 1; }
grep -E "Maximum resident|Elapsed|User time|System time" "$work/time.txt"
/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); f=next(iter(j['files'].values())); print('instances', f['n_instances'], 'timeline', len(f['timeline']), 'segments', len(f['segments']))" "$work/tags.json"
