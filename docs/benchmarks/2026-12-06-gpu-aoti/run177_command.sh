# one H100 (env.txt names it), 2026-12-06: AOTInductor's package of a plain torch module compiled in one process and
# loaded in another (run 176 crashed loading it in the compiling process); eager against Inductor's cpp_wrapper
# (kernels launched from generated C++), with and without freezing, Vim-S r=0 and Vim-Ti r=5, both timings
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
A=docs/benchmarks/2026-12-06-gpu-aoti/aoti_plain.py
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
P=$(mktemp -d)/m.pt2
for stage in compile load; do
  timeout 80 python3 -X faulthandler $A 0 $stage $P 2>&1 | grep -v -i "warn" \
    | grep -v "^  File\|^Thread\|^$\|threading\|Extension modules" | tail -6 | tee -a $OUT/aoti_two_processes.txt
done
for mr in vim_small_patch16_224:0 vim_tiny_patch16_224:5; do
  timeout 190 python3 scripts/compare_compile_options.py --model ${mr%:*} --r ${mr#*:} \
    --variants default,cpp-wrapper,frozen-cpp --rounds 6 --iters 15 > $OUT/compare_cpp_${mr%%_*}_${mr#*:}.txt 2>&1
  echo "rc=$?" >> $OUT/compare_cpp_${mr%%_*}_${mr#*:}.txt
  grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $OUT/compare_cpp_${mr%%_*}_${mr#*:}.txt | tail -c 2500
done
