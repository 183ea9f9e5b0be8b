# one H100, 2026-12-06 06:12 UTC, commit e5f5d4b
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 100 python3 scripts/diag_frozen_ops.py --cases default:0,default:5 --watch stacks 2>&1 | grep -v -i "warn" | tee $OUT/stacks_seq.txt
