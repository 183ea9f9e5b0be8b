#!/usr/bin/env bash
# run 126: the new reduce-overhead test against the stacked-weight cache of 4a844ab (before the helper thread): it
# should fail there.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache126 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run126_env.txt
git show 4a844ab:src/rmeeto/ops/triton/bimamba.py > src/rmeeto/ops/triton/bimamba.py
timeout 200 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py -k never_ran -p no:cacheprovider \
  > $OUT/run126_gpu_tests.txt 2>&1
echo "rc=$?" >> $OUT/run126_gpu_tests.txt
git checkout src/rmeeto/ops/triton/bimamba.py
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=|^E   .*RuntimeError" $OUT/run126_gpu_tests.txt | cut -c1-200
