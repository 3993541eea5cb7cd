# Steps shared by tools/build_synth_model.sh and tools/generalization.sh (sourced, not run). Each
# step skips an output that exists; results are written atomically. Needs T (the tutti program),
# THREADS and ATT_EPOCHS; ATT's seed is SEED (default 1).

# CMD... with its stderr (progress bars, messages) out of sight; when it fails, one line naming
# the command and its last message, and its exit status.
run_quiet() {
  local log last rc=0
  log=$(mktemp)
  "$@" 2>"$log" || rc=$?
  # The last non-blank line; progress bars redraw with carriage returns. awk, unlike grep, exits
  # 0 when the command printed nothing.
  last=$(tr '\r' '\n' <"$log" | awk 'NF' | tail -n 1)
  rm -f "$log"
  [ "$rc" -eq 0 ] || echo "$(basename "$0"): failed (exit $rc): $* -- $last" >&2
  return "$rc"
}

embed_set() {  # OUT.npz SYNTH_DIR EMBEDDER: features and labels of a `tutti synth` folder
  [ -f "$1" ] || run_quiet "$T" embed "$2/audio" --embedder "$3" --labels "$2/labels.csv" \
    --instances "$2/instances.csv" --classes openmic --threads "$THREADS" -o "$1"
}

merge_sets() {  # OUT.npz IN.npz...: one training set (clip keys prefixed with their file's name)
  local out=$1
  shift
  [ -f "$out" ] || run_quiet "$T" data merge "$@" --prefix-keys -o "$out"
}

train_att() {  # OUT.tutti TRAIN.npz [MORE TRAIN FLAGS...]
  local out=$1 data=$2
  shift 2
  [ -f "$out" ] || run_quiet "$T" train "$data" --model att --epochs "$ATT_EPOCHS" --patience 20 \
    --lr-schedule cosine --seed "${SEED:-1}" --threads "$THREADS" "$@" -o "$out" >/dev/null
}

score_set() {  # MODEL FEATURES.npz STRONG.csv EVAL.json LOC.json: clip scores, 1 s timelines
  [ -f "$4" ] || { run_quiet "$T" eval "$1" "$2" --json >"$4.tmp" && mv "$4.tmp" "$4"; }
  [ -f "$5" ] || { run_quiet "$T" localize "$1" "$2" --strong "$3" --json >"$5.tmp" &&
    mv "$5.tmp" "$5"; }
}
