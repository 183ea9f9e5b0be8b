# one H100, 2026-12-06 06:02 UTC, commit 2c6ea23 with the first form of scripts/diag_frozen_ops.py (its default
# --watch ops of commit 220e72a and later does the same)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 150 python3 scripts/diag_frozen_ops.py --cases default:0,default:5 2>&1 | grep -v -i "warn" | tee $OUT/ops_seq.txt
timeout 100 python3 scripts/diag_frozen_ops.py --cases default:5 2>&1 | grep -v -i "warn" | tee $OUT/ops_alone.txt
