# this project's 2-core CPU machine, 2026-12-06, commit after 7a0caa3 (check_kernel_bounds --traced): the *_traced ops
# that compiled forwards take with compile_ops="traced", run eagerly under the check; Vim-Ti, VideoMamba-Ti, the split
# scan and pruning
export PYTHONPATH=src
run() { echo "== $*"; env "$@" > /tmp/bounds_one.txt 2>&1; echo "exit $?"; grep -v "^$" /tmp/bounds_one.txt | grep -v -i warn; }
run X=0 python scripts/check_kernel_bounds.py --r 0,5 --traced
run X=0 python scripts/check_kernel_bounds.py --r 5 --traced --embed-dim 48 --mode prune
run RMEETO_SCAN_SPLIT=1 python scripts/check_kernel_bounds.py --r 5 --traced --embed-dim 48
run X=0 python scripts/check_kernel_bounds.py --r 0,8 --traced --model videomamba_tiny_patch16_224 --frames 2
