# this project's 2-core CPU machine, 2026-12-06, commit 7272acc: scripts/check_kernel_bounds.py over the other kernel
# paths (split and chunked scans, the two-launch merge, pruning, sequences past the one-program merge's 257 tokens),
# at width 48 (dt rank 3, not a power of two)
export PYTHONPATH=src
C="python scripts/check_kernel_bounds.py --embed-dim 48"
run() { echo "== $*"; env "$@" > /tmp/bounds_one.txt 2>&1; echo "exit $?"; grep -v "^$" /tmp/bounds_one.txt | grep -v -i warn; }
run RMEETO_SCAN_SPLIT=1 $C --r 0,5
run RMEETO_SCAN_CHUNK=4 $C --r 0,5
run RMEETO_SCAN_CHUNK=4 $C --r 5 --train
run RMEETO_MERGE_NORM=0 $C --r 5
run RMEETO_MERGE_NORM=0 $C --r 5 --train
run X=0 $C --r 5 --mode prune
run X=0 $C --r 5 --mode prune --train
run X=0 $C --img 272 --depth 3 --batch 1 --r 30
run X=0 $C --img 272 --depth 3 --batch 1 --r 30 --train
run X=0 $C --model videomamba_tiny_patch16_224 --frames 8 --img 96 --depth 3 --batch 1 --r 0,40
