#!/usr/bin/env bash
# run 112: which launch options (debug, maxnreg) of a user's Triton kernel reach Triton through Inductor in this torch
# (scripts/probe_inductor_launch_options.py).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache112 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR
scripts/record_env.sh > $OUT/run112_env.txt
timeout 150 python3 scripts/probe_inductor_launch_options.py 2>&1 | grep -v "^W1\|^  warn" | tee $OUT/run112_probe.txt | tail -20
date -u >> $OUT/run112_env.txt
