# one H100 or H200 (env.txt names it), 2026-12-06, src/ and tests/ of the commit that adds this file (dt_proj out of
# the forward scan kernel, the captured scan chosen by programs a multiprocessor alone): the GPU tests of the Triton
# kernels, the models against the official fixtures, and the compiled and exported models (Inductor launches the
# forward scan kernel itself, with its new argument list)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 420 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_triton_ops.py \
  tests/test_gpu_model.py tests/test_gpu_compile.py -k "not interpreter_cpu and not access_only" \
  > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt
grep -i "passed\|failed\|error\|rc=" $OUT/tests.txt | tail -15
