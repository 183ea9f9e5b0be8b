# one H100 or H200 (env.txt names it), 2026-12-06, src/, tests/ and scripts/ of the commit that adds this file:
# (1) the new GPU test that repeated CUDA-graph captures leave no cuBLAS workspace behind each, then the same test
# with the capture's warm-up stream put back to a new stream per capture (it must fail: the mutation check);
# (2) which forward scan a captured forward should run, by shape: the two-stream launch (set.scan_split=on) against
# one launch (set.scan_split=off) and the default (auto: two streams below FWD_CFG's SPLIT_MAX_PROGS_PER_SM one-launch
# programs a multiprocessor), CUDA-graph replays interleaved in rounds, at batch sizes that put 2.9 to 23.3 one-launch
# programs (64 channels x batch) on each of 132 multiprocessors; (3) the GPU test of that rule
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
t="tests/test_gpu_train_graph.py::test_captures_leave_no_workspace_behind_each"
timeout 60 python3 -m pytest -q -p no:logging -p no:cacheprovider $t > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt
cp src/rmeeto/cuda_graphs.py /tmp/cuda_graphs.py
sed -i 's/stream = warmup_stream(device)$/stream = torch.cuda.Stream(device)/' src/rmeeto/cuda_graphs.py
grep -c "stream = torch.cuda.Stream(device)" src/rmeeto/cuda_graphs.py >> $OUT/tests.txt
timeout 60 python3 -m pytest -q -p no:logging -p no:cacheprovider $t > $OUT/tests_mutated.txt 2>&1
echo "rc=$? (the mutated code must fail)" >> $OUT/tests_mutated.txt
cp /tmp/cuda_graphs.py src/rmeeto/cuda_graphs.py
tail -2 $OUT/tests.txt; grep -i "assert\|rc=" $OUT/tests_mutated.txt | tail -3
ab() {  # name, timeout, args...
  local name=$1 t=$2; shift 2
  timeout $t python3 scripts/ab_scan_cfg.py --rounds 5 --configs "set.scan_split=on;set.scan_split=off;" "$@" > $OUT/$name.txt 2>&1
  echo "rc=$?" >> $OUT/$name.txt; grep -v -i warn $OUT/$name.txt
}
ab b128 70 --model vim_base_patch16_224 --r 0,11 --batch 128
ab s96 50 --model vim_small_patch16_224 --r 0 --batch 96
ab t256 50 --model vim_tiny_patch16_224 --r 0 --batch 256
ab vs32 60 --model videomamba_small_patch16_224 --r 0 --batch 32
timeout 90 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_gpu_model.py -k split_scan \
  > $OUT/tests_rule.txt 2>&1; echo "rc=$?" >> $OUT/tests_rule.txt; tail -2 $OUT/tests_rule.txt
