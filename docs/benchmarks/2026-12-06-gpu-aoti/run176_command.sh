# one H100 (env.txt names it), 2026-12-06: where aoti_load_package crashes (run 175): a plain torch module, a 4-block
# Vim-Ti unmerged and merged (r=5), each in its own process
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for n in 0 1 2; do
  timeout 150 python3 -X faulthandler docs/benchmarks/2026-12-06-gpu-aoti/aoti_plain.py $n 2>&1 | grep -v -i "warn" \
    | grep -v "^  File\|^Thread\|^$\|threading\|Extension modules" | tail -12 | tee -a $OUT/aoti_plain.txt
done
