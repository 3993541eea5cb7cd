#!/usr/bin/env bash
# Load on `tutti serve` (docs/serve.md): concurrent clients on loopback tagging a 10 s clip with a
# small logmel-stats model, with wrk (Debian package) and bench/serve_load.lua.
#   bench/serve_load.sh BUILD_DIR [SECONDS] [CLIENTS] [WORKERS] [QUEUE]
# Phases: 5 s warm-up; SECONDS (default 100, about 10,000 requests) at CLIENTS (default 8)
# connections, below the queue limit (expect only 200s); 15 s at 64 connections with a queue of
# QUEUE (default 8) on WORKERS (default 2), above it (expect 200s and 503s only). The server's
# resident memory (VmRSS) is printed every 10 s of the long phase, and its peak (VmHWM).
set -euo pipefail
build=$(cd "${1:?usage: bench/serve_load.sh BUILD_DIR [SECONDS] [CLIENTS] [WORKERS] [QUEUE]}" && pwd)
seconds=${2:-100}
clients=${3:-8}
workers=${4:-2}
queue=${5:-8}
command -v wrk >/dev/null || { echo "serve_load: wrk not installed (apt-get install wrk)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$here/small_logmel_model.sh" "$build" "$work" >/dev/null 2>&1
"$build/bench/bench_embed" --write-wav "$work/clip.wav" 10 >/dev/null

"$build/tutti" serve --model "$work/m.tutti" --port 0 --workers "$workers" --queue "$queue" \
  --connections 80 2> "$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.err" && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.err" | cut -d: -f2)
url="http://127.0.0.1:$port/v1/tag"
rss() { awk '/^(VmRSS|VmHWM)/ {printf "%s %d MB  ", $1, $2 / 1024}' "/proc/$server/status"; echo; }
load() {  # connections seconds
  wrk -t 2 -c "$1" -d "$2s" --timeout 10s --latency -s "$here/serve_load.lua" "$url" \
    -- "$work/clip.wav" | sed -n '/^requests /,$p'
}
echo "tutti serve: $workers workers, queue $queue, $(nproc) cores; 10 s clip $(stat -c %s "$work/clip.wav") bytes"
echo "== warm-up (5 s, $clients connections)"
load "$clients" 5 >/dev/null
echo -n "rss after warm-up: "; rss
echo "== $clients connections, $seconds s (below the queue limit)"
( for i in $(seq $((seconds / 10))); do sleep 10; echo -n "  rss at +$((i * 10)) s: "; rss; done ) \
  > "$work/rss.txt" &
load "$clients" "$seconds"
wait $!
cat "$work/rss.txt"
echo "== 64 connections, 15 s (above the queue limit of $workers workers + $queue)"
load 64 15
echo -n "rss: "; rss
kill -TERM "$server"
wait "$server" && echo "server drained and exited 0"
server=""
