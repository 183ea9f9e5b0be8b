# one H100, 2026-12-06 05:49 UTC, commit 1717c8b (torch 2.11.0+cu130, triton 3.6.0)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 330 python3 scripts/diag_frozen_compile.py --r 5 --weights init --dump $OUT/code 2>&1 | grep -v -i "warn" | tee $OUT/diag_r5.txt
timeout 120 python3 scripts/diag_frozen_compile.py --r 5 --weights noisy --precisions fp16 --cases frozen,frozen-nofold 2>&1 | grep -v -i warn | tee $OUT/diag_r5_noisy.txt
timeout 100 python3 -m pytest -m gpu -q -p no:cacheprovider tests/test_gpu_compile.py -k frozen 2>&1 | tail -4 | tee $OUT/frozen_tests.txt
