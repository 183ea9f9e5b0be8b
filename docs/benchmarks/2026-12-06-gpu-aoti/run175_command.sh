# one H100 or H200 (env.txt names it), 2026-12-06, commit after 4469ed4: AOTInductor on the GPU, stage by stage with
# nothing filtered (an earlier run of compare_compile_options --variants aoti ended with no output); if the probe's
# program runs, eager against torch.compile and AOTInductor (opaque and traced ops) on Vim-S r=0, both timings
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 200 python3 -X faulthandler scripts/probe_aoti.py --model vim_tiny_patch16_224 --r 5 --batch-size 128 \
  > $OUT/probe_ti_r5.txt 2>&1; echo "rc=$?" >> $OUT/probe_ti_r5.txt
grep -v -i "warn" $OUT/probe_ti_r5.txt | tail -c 5000
V=default,frozen
grep -q "logits against eager" $OUT/probe_ti_r5.txt && V=default,aoti,aoti-traced
timeout 330 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 0 --variants $V \
  --rounds 6 --iters 15 > $OUT/compare_s_r0.txt 2>&1; echo "rc=$?" >> $OUT/compare_s_r0.txt
grep -v -i "warn" $OUT/compare_s_r0.txt | tail -c 4000
