# one H100 (env.txt names it), 2026-12-06: run 177's two-process AOTInductor case again with room to compile (run
# 177's compile stage printed nothing within its 80 s)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
A=docs/benchmarks/2026-12-06-gpu-aoti/aoti_plain.py
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
P=$(mktemp -d)/m.pt2
for stage in compile load; do
  timeout 200 python3 -X faulthandler $A 0 $stage $P 2>&1 | grep -v -i "warn" \
    | grep -v "^  File\|^Thread\|^$\|threading\|Extension modules" | tail -6 | tee -a $OUT/aoti_two_processes.txt
  echo "$stage: rc=${PIPESTATUS[0]}" | tee -a $OUT/aoti_two_processes.txt
done
