# one H100 (the machine of run 161, still held), 2026-12-06, commit 5e6bcbc: the failing GPU test alone, first with
# its log (run 162, output not kept: the log's DEBUG lines filled the tail), then without (run 163)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -x -m gpu -p no:logging \
  "tests/test_gpu_compile.py::test_frozen_compile_matches_eager_on_the_triton_path[reduce-overhead-5]" --tb=short 2>&1 \
  | grep -E "^E |assert|Error|\.py:[0-9]+" | head -40 | tee $OUT/frozen_ro.txt
