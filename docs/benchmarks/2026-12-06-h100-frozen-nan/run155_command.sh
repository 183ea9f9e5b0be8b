# one H100, 2026-12-06 06:07 UTC, commit 97e97cf: each line a fresh process, unmerged then merged (r=5), frozen
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
D="python3 scripts/diag_frozen_ops.py --cases default:0,default:5 --watch none"
v() { echo "== $1"; shift; timeout 60 "$@" 2>&1 | grep -v -i warn | grep "r=5" | tr '\n' ' '; echo; }
( v base $D --dump $OUT/code_frozen; v plain $D --plain --dump $OUT/code_plain; v clear-stacks $D --between clear-stacks
  v gc $D --between gc; v sync-calls $D --sync-calls; v fast-launch-off env RMEETO_FAST_LAUNCH=0 $D
  v launch-blocking env CUDA_LAUNCH_BLOCKING=1 $D
  v r5-twice python3 scripts/diag_frozen_ops.py --cases default:5,default:5 --watch none; v nanfill-seq $D --nanfill ) | tee $OUT/bisect.txt
