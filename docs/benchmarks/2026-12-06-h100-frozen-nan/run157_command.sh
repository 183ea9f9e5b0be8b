# one H100, 2026-12-06 06:14 UTC, commit e5f5d4b, compute-sanitizer of CUDA 13.0 (host frames left out of the copies)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
CS=/usr/local/cuda-13.0/bin/compute-sanitizer
PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout 280 $CS --tool memcheck --print-limit 10 python3 scripts/diag_frozen_ops.py \
  --cases default:0,default:5 --watch none 2>&1 | grep -v -i "warn" | tee $OUT/memcheck.txt
timeout 200 $CS --tool initcheck --print-limit 10 python3 scripts/diag_frozen_ops.py --cases default:0,default:5 \
  --watch none 2>&1 | grep -v -i "warn" | tee $OUT/initcheck.txt
