#!/usr/bin/env bash
# run 91: is the GPU host's speed a property of the core a process runs on? The machine's CPU topology and steal time;
# a pure-Python loop pinned to each of the 16 cores in turn (three passes); eager Vim-Ti r=0 / r=5 host and
# synchronised time per forward (scripts/host_enqueue.py, batch 128) in processes as scheduled and pinned to six cores
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run91_env.txt
{ lscpu; nvidia-smi topo -m; grep MHz /proc/cpuinfo; cat /sys/fs/cgroup/cpu.max 2>&1; } > $OUT/run91_topo.txt 2>&1
head -1 /proc/stat > $OUT/run91_stat.txt
LOOP='import time
t = time.perf_counter(); s = 0
for i in range(3_000_000): s += i
print(f"{(time.perf_counter() - t) * 1e3:.1f}")'
for pass in 1 2 3; do
  row="pass $pass, ms per loop by core:"
  for c in $(seq 0 15); do row="$row $(taskset -c $c python3 -c "$LOOP")"; done
  echo "$row" | tee -a $OUT/run91_loop.txt
done
run() {  # label, then the command prefix
  local label=$1; shift
  timeout 90 "$@" python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5 --rounds 15 2>&1 \
    | grep -v -i warn | sed "s/^/$label: /" | tee -a $OUT/run91_host.txt
}
run "as scheduled 1"
for c in 0 5 10 15; do run "core $c" taskset -c $c; done
run "as scheduled 2"
for c in 2 7; do run "core $c" taskset -c $c; done
run "as scheduled 3"
head -1 /proc/stat >> $OUT/run91_stat.txt
date -u >> $OUT/run91_env.txt
