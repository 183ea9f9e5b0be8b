# one H100 or H200 (env.txt names it), 2026-12-06, src/ and tests/ of the commit that adds this file: GPU tests after
# dt_proj in the scan went off by default (DT_FOLD_MAX_R=0) and captured inference got its grid rule: the models
# against the official fixture and the reference, the split rule, and the in-scan dt_proj kernel (opt-in now); first,
# captured Vim-Ti at batch 256 (11.6 one-launch programs a multiprocessor: the rule picks one launch) with the
# fold off: two streams against one launch and the default
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 40 python3 scripts/ab_scan_cfg.py --rounds 4 --model vim_tiny_patch16_224 --r 0 --batch 256 \
  --configs "set.scan_split=on;set.scan_split=off;" > $OUT/t256.txt 2>&1; echo "rc=$?" >> $OUT/t256.txt
grep -v -i warn $OUT/t256.txt
timeout 120 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_gpu_model.py tests/test_triton_ops.py \
  -k "not interpreter_cpu and not access_only" > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt
grep -v -i warn $OUT/tests.txt | tail -6
