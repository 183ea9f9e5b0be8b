# one H100 or H200 (env.txt names it), 2026-12-06, src/, tests/ and scripts/ of the commit that adds this file: the
# interleaved forward scan (FWD_CFG["PAIR"], opt-in) on a GPU for the first time: its GPU exactness test, then
# Vim-Ti / Vim-S forwards with it against the default, eager and as CUDA-graph replays (one process per line,
# configurations interleaved in rounds, logits compared with the first configuration's)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 150 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_scan_chunk.py -k interleaved \
  > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt
tail -3 $OUT/tests.txt
ab() {  # name, timeout, args...
  local name=$1 t=$2; shift 2
  timeout $t python3 scripts/ab_scan_cfg.py --rounds 5 "$@" > $OUT/$name.txt 2>&1; echo "rc=$?" >> $OUT/$name.txt
  grep -v -i warn $OUT/$name.txt
}
ab ti_eager 100 --model vim_tiny_patch16_224 --r 0,5 --eager \
  --configs ";fwd.PAIR=1;fwd.PAIR=1 fwd.PAIR_BLOCK_E=64;fwd.PAIR=1 fwd.PAIR_BLOCK_E=16"
ab ti_graph 90 --model vim_tiny_patch16_224 --r 0,5 \
  --configs ";set.scan_split=off;set.scan_split=off fwd.PAIR=1;set.scan_split=off fwd.PAIR=1 fwd.PAIR_BLOCK_E=64"
ab s_eager 90 --model vim_small_patch16_224 --r 0,11 --eager --configs ";fwd.PAIR=1;fwd.PAIR=1 fwd.PAIR_BLOCK_E=64"
ab s_graph 90 --model vim_small_patch16_224 --r 0,11 \
  --configs ";set.scan_split=off;set.scan_split=off fwd.PAIR=1;set.scan_split=off fwd.PAIR=1 fwd.PAIR_BLOCK_E=64"
