# this project's 2-core CPU machine, 2026-12-06, commit 725c3eb: the check again with the
# weight-stacking kernel included, listing the kernels each configuration ran
export PYTHONPATH=src
C="python scripts/check_kernel_bounds.py --embed-dim 48"
run() { echo "== $*"; env "$@" > /tmp/bounds_one.txt 2>&1; echo "exit $?"; grep -v "^$" /tmp/bounds_one.txt | grep -v -i warn; }
run X=0 python scripts/check_kernel_bounds.py --r 0,5
run X=0 $C --r 5 --train
run RMEETO_SCAN_SPLIT=1 $C --r 5
run RMEETO_SCAN_CHUNK=4 $C --r 5 --train
run RMEETO_MERGE_NORM=0 $C --r 5 --train
run X=0 $C --img 272 --depth 3 --batch 1 --r 30 --train
