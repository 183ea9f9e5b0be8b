# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: the issue's
# target speed-ups, timed in five interleaved rounds (scripts/bench_targets.py)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 400 python3 scripts/bench_targets.py --json $OUT/targets.json > $OUT/targets.txt 2>&1
echo "rc=$?" >> $OUT/targets.txt
grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $OUT/targets.txt | tail -c 5000
