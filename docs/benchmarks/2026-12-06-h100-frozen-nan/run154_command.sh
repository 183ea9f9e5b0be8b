# one H200, 2026-12-06 06:04 UTC, commit 220e72a
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 100 python3 scripts/diag_frozen_ops.py --cases default:0,default:5 --watch none 2>&1 | grep -v -i "warn" | tee $OUT/seq_unwrapped.txt
timeout 100 python3 scripts/diag_frozen_ops.py --cases default:5 --watch none --nanfill 2>&1 | grep -v -i "warn" | tee $OUT/nanfill_unwrapped.txt
timeout 120 python3 scripts/diag_frozen_ops.py --cases default:5 --nanfill --quiet 2>&1 | grep -v -i "warn" | tee $OUT/nanfill_watched.txt
timeout 100 python3 scripts/diag_frozen_ops.py --cases default:0 --nanfill --quiet 2>&1 | grep -v -i "warn" | tee $OUT/nanfill_r0.txt
