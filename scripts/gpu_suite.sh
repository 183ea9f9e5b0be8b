#!/usr/bin/env bash
# Everything that needs a GPU, in one script: each section is one self-contained GPU job.
#   scripts/gpu_suite.sh test bench data      # kernels + model tests, rmeeto bench, loader/e2e
#   scripts/gpu_suite.sh proxy                # train the Fashion-MNIST proxy + demo models
#   scripts/gpu_suite.sh study                # rmeeto study on the proxy (STUDY_STAGES to pick stages)
#   scripts/gpu_suite.sh study2               # on a 2-GPU machine: retrain on GPU 0, order + vit on GPU 1
#   scripts/gpu_suite.sh scale                # on a 2-GPU machine: 1 vs 2 processes, same per-GPU batch
#   scripts/gpu_suite.sh workers              # end-to-end throughput against the loader worker count
#   scripts/gpu_suite.sh proxy4 tcache        # the proxy on 4 GPUs; return the Triton cache
#   scripts/gpu_suite.sh proxy2               # the proxy on 2 GPUs, resumable over several calls
#   scripts/gpu_suite.sh e2e                  # one GPU: loader alone + 3 epochs end to end on a JPEG folder
#   OLD_REV=abc123 scripts/gpu_suite.sh trainab  # the training step here and at abc123, alternating
#   scripts/gpu_suite.sh mergeprof           # kernel lists of merged inference, merge cost, training profile
#   scripts/gpu_suite.sh fwdchunk            # the forward's chunking choice, the merge plan's warps, merge cost
#   OLD_SCAN=mod scripts/gpu_suite.sh bwdsweep # the scan backward against OLD_SCAN and re-blocked; training step
#   scripts/gpu_suite.sh conv                # the conv kernels' block configurations; ncu on the forward
#   scripts/gpu_suite.sh confcheck           # GPU tests, conv configurations, the targets, the training step
#   scripts/gpu_suite.sh videoquick          # VideoMamba-S clips/s, CUDA graph, r=0 and 88
#   OLD_SCAN=mod scripts/gpu_suite.sh scanfwd # the scan against OLD_SCAN, targets, profile, training, video, GPU tests
#   OLD_SCAN=mod scripts/gpu_suite.sh scanncu  # the forward scan vs OLD_SCAN, ncu on it, video merge, targets again
#   scripts/gpu_suite.sh videoplan          # merge-plan GPU tests, the plan's kernels at video lengths, video clips/s
#   CAPS="128 0" scripts/gpu_suite.sh regcap # the forward scan's register cap: scan alone, targets, video, training
#   AB_CONFIGS=";fwd.maxnreg=0" scripts/gpu_suite.sh regab # the same, configurations interleaved in one process
#   scripts/gpu_suite.sh contract            # selective_scan_fn contract: chunked-scan GPU tests, profile, chunk sweep, mamba_ssm
#   scripts/gpu_suite.sh pending             # GPU tests not yet run at this tree; compile option sets on Vim-S r=11
#   scripts/gpu_suite.sh frozen              # compiled with the weights as constants (freezing) against eager and default
#   scripts/gpu_suite.sh hostcheck           # eager Vim-Ti r=0 / r=5: host time, synchronizing calls, Python profile
#   OLD_REV=abc123 scripts/gpu_suite.sh hostab  # host work per block: changed paths' GPU tests, eager here vs abc123
#   scripts/gpu_suite.sh verify              # every kernel's GPU tests, then the targets in a graph and eager Vim-Ti
#   scripts/gpu_suite.sh graphrefresh        # graphed replays restacking on the host: GPU tests, live vs frozen speed
#   scripts/gpu_suite.sh trainprof            # profile the training step; time scan/gradient variants
#   scripts/gpu_suite.sh recipe4              # 4 GPUs: the study's recipe stage (held-out recipe choice)
#   RECIPE=auto scripts/gpu_suite.sh retrain4 # 4 GPUs: retrain + order stages with that recipe
#   scripts/gpu_suite.sh h100grid             # one H100: the whole retrain grid timed alone (resumable)
#   scripts/gpu_suite.sh video                # VideoMamba GPU tests + the clips/s table (Ti/S/M, r=0/88)
#   scripts/gpu_suite.sh mergebench           # one merge step, reference vs fused, at 197/1569/3137 tokens
#   scripts/gpu_suite.sh targets16            # the kernels issue's open measurements (training step, eager, merge cost)
#   OLD_SCAN=path scripts/gpu_suite.sh scan   # chunked-scan GPU tests, then the scan timed against OLD_SCAN
#                                             # (another triton_scan.py); SCAN_TC/SCAN_BE/SCAN_SHAPES pick variants, SCAN_FLAGS adds flags
# Outputs go to $OUT (or ./gpu_out): logs, JSON, PNG.
set -uo pipefail
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
# a Triton kernel cache carried from an earlier call (tcache section), so runs time warm, as a user's second run would
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-/tmp/tcache}
[ -f .device_data/triton_cache.tgz ] && [ ! -d "$TRITON_CACHE_DIR" ] && mkdir -p "$TRITON_CACHE_DIR" && tar xzf .device_data/triton_cache.tgz -C "$TRITON_CACHE_DIR"
RM="python3 -m rmeeto.cli"
FMNIST=${FMNIST:-$PWD/.device_data/fashion-mnist}
info() { nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; python3 -c "import torch,triton,timm;print('torch',torch.__version__,'triton',triton.__version__,'timm',timm.__version__)"; date -u; }
# the generated ImageNet-like JPEG folder (10 classes, ~500 train / 24 val JPEGs each, 500x375, q90), made
# by 8 processes in parallel (one seed each) and merged
fakeinet() {
  [ -d /tmp/fakeinet ] && return
  for i in 0 1 2 3 4 5 6 7; do
    python3 -c "from rmeeto.data.synthetic import make_fake_jpeg_folder as f; f('/tmp/fk$i', classes=10, per_class=${PER_CLASS:-63}, val_per_class=3, seed=$i)" &
  done; wait
  for i in 0 1 2 3 4 5 6 7; do for d in /tmp/fk$i/*/class_*; do
    dst=/tmp/fakeinet/${d#/tmp/fk$i/}; mkdir -p "$dst"
    for f in "$d"/*; do mv "$f" "$dst/s${i}_$(basename "$f")"; done
  done; done
}
# the kernels issue's inference targets in a CUDA graph (Vim-S r=0,11 and ratio 0.54, Vim-Ti r=0,1,5) plus any
# MODEL:FLAG:VALUES given, with the merge blocks' cost; appended to $OUT/targets.txt
graph_targets() {
  for spec in vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54 vim_tiny_patch16_224:--r:0,1,5 "$@"; do
    IFS=: read -r model flag vals <<< "$spec"
    timeout 90 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph --merge-cost 2>&1 | grep -E "^auto" \
      | sed "s/^/[$model graph] /" | tee -a "$OUT/targets.txt"
  done
}
eager_ti() {  # eager Vim-Ti r=0,5 twice (eager timings follow the host)
  for i in 1 2; do timeout 60 $RM bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 2>&1 | grep -E "^auto" \
    | sed "s/^/[ti eager #$i] /" | tee -a "$OUT/targets.txt"; done
}
train_s() {  # the Vim-S bf16 training step, r=0 and 11
  timeout ${TRAIN_TIMEOUT:-120} $RM bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train --warmup 5 --iters 20 \
    2>&1 | grep -E "^auto" | sed 's/^/[vim_s train] /' | tee -a "$OUT/targets.txt"
}
video_s_graph() {  # VideoMamba-S clips/s in a CUDA graph, r=0 and 88 (8 frames, batch 32, fp16)
  timeout 100 $RM bench --model videomamba_small --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 \
    --cuda-graph 2>&1 | grep -E "^auto" | sed 's/^/[videomamba_s graph] /' | tee -a "$OUT/targets.txt"
}
targets_with_cap() {  # graph targets, VideoMamba-S and (unless TRAIN=0) training with the forward's cap set to $1
  local RM="python3 scripts/with_scan_cfg.py fwd.maxnreg=$1 --"  # seen by the functions below, gone after
  graph_targets; video_s_graph; [ "${TRAIN:-1}" = 1 ] && train_s
}
for what in "$@"; do case $what in
compile)
  info | tee "$OUT/compile_env.txt"
  timeout ${TEST_TIMEOUT:-300} python3 -m pytest -q -m gpu ${COMPILE_TESTS:-tests/test_gpu_compile.py tests/test_gpu_model.py \
    tests/test_triton_ops.py tests/test_fused_merge.py tests/test_gpu_videomamba.py tests/test_scan_chunk.py} 2>&1 \
    | tail -30 | tee "$OUT/compile_gpu_tests.txt"
  for spec in ${EAGER_BENCH:-vim_tiny_patch16_224:0,5 vim_small_patch16_224:0,11}; do
    for graph in "" --cuda-graph; do
      timeout 60 $RM bench --model ${spec%%:*} --r ${spec##*:} --batch-size 128 --dtype fp16 --warmup 10 --iters 30 $graph \
        2>&1 | sed "s/^/[${spec%%:*}${graph:+ graph}] /" | tee -a "$OUT/compile_eager_bench.txt"
    done
  done
  timeout ${COMPILE_TIMEOUT:-200} python3 scripts/bench_compile.py --model ${COMPILE_MODEL:-vim_small_patch16_224} \
    --r ${COMPILE_R:-0,11} 2>&1 | tee "$OUT/compile_bench.txt" ;;
video)
  info | tee "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-400} python3 -m pytest -q -m gpu tests/test_gpu_videomamba.py 2>&1 | tail -15 | tee "$OUT/video_gpu_tests.txt"
  for m in ${VIDEO_MODELS:-tiny small middle}; do
    timeout 200 $RM bench --model videomamba_$m --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 ${VIDEO_BENCH_FLAGS:-} \
      --json "$OUT/video_infer_$m.json" 2>&1 | sed "s/^/[$m infer] /" | tee -a "$OUT/video_bench.txt"
    timeout 200 $RM bench --model videomamba_$m --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 --cuda-graph ${VIDEO_BENCH_FLAGS:-} \
      --json "$OUT/video_graph_$m.json" 2>&1 | sed "s/^/[$m graph] /" | tee -a "$OUT/video_bench.txt"
    timeout 200 $RM bench --model videomamba_$m --r 0,88 --batch-size 16 --dtype bf16 --train --warmup 3 --iters 10 ${VIDEO_BENCH_FLAGS:-} \
      --json "$OUT/video_train_$m.json" 2>&1 | sed "s/^/[$m train] /" | tee -a "$OUT/video_bench.txt"
  done ;;
scan)
  info | tee "$OUT/scan_env.txt"
  timeout ${TEST_TIMEOUT:-200} python3 -m pytest -q -m gpu ${SCAN_TESTS:-tests/test_scan_chunk.py tests/test_triton_ops.py} 2>&1 \
    | tail -25 | tee "$OUT/scan_gpu_tests.txt"
  OLD=${OLD_SCAN:+--old $OLD_SCAN}
  [ "${SCAN_CHECK:-1}" = 1 ] && timeout ${CHECK_TIMEOUT:-120} python3 scripts/bench_scan.py $OLD --dirs 2 --tc auto,64 --rep 10 \
    --check 2>&1 | tee "$OUT/scan_check.txt"
  timeout ${BENCH_TIMEOUT:-240} python3 scripts/bench_scan.py $OLD --tc ${SCAN_TC:-auto,0,32,64,128,256} --be ${SCAN_BE:-32} \
    ${SCAN_SHAPES:+--shapes $SCAN_SHAPES} ${SCAN_FLAGS:-} --json "$OUT/scan_bench.json" 2>&1 | tee "$OUT/scan_bench.txt" ;;
test)
  info | tee "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-600} python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_triton_ops.py tests/test_fused_merge.py \
    tests/test_gpu_augment.py 2>&1 | tail -25 | tee "$OUT/gpu_tests.txt" ;;
bench)
  # every target of the kernels issue in one process, then where the time goes, then the ratio curve
  python3 scripts/bench_targets.py --json "$OUT/targets.json" 2>&1 | tee -a "$OUT/bench.txt"
  python3 scripts/profile_forward.py --r 0,11 2>&1 | tee -a "$OUT/bench.txt"
  $RM bench --model vim_small_patch16_224 --ratio 0.14,0.31,0.54 --merge auto,torch --dtype fp16 --cuda-graph \
    --json "$OUT/bench_vim_small.json" --plot "$OUT/bench_vim_small.png" 2>&1 | tee -a "$OUT/bench.txt"
  # the Fashion-MNIST proxy's training step (what bounds the reproduction runs)
  $RM bench --model vim_tiny_patch16_224 --model-kwargs img_size=56 patch_size=4 stride=4 channels=1 num_classes=10 \
    --r 0,11 --dtype bf16 --train --batch-size 256 --warmup 5 --iters 15 2>&1 | sed 's/^/[proxy train] /' | tee -a "$OUT/bench.txt" ;;
mergebench)
  python3 scripts/bench_merge.py 2>&1 | tee "$OUT/bench_merge.txt" ;;
targets16)
  # the kernels issue's open measurements in one call, nothing else running on the host: GPU tests of the launch
  # cache and the models, the training step, eager Vim-Ti three times (eager timings vary), the merge blocks' own
  # cost, and the merge-cost curve
  info | tee "$OUT/env.txt"
  [ "${TESTS:-1}" = 1 ] && timeout ${TEST_TIMEOUT:-200} python3 -m pytest -q -m gpu tests/test_gpu_launch.py tests/test_gpu_model.py \
    tests/test_fused_merge.py 2>&1 | tail -5 | tee "$OUT/gpu_tests.txt"
  timeout 120 $RM bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train --warmup 5 --iters 20 2>&1 \
    | sed 's/^/[vim_s train] /' | tee -a "$OUT/targets16.txt"
  for i in 1 2 3; do for f in 1 0; do
    RMEETO_FAST_LAUNCH=$f timeout 60 $RM bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --warmup 10 --iters 30 \
      2>&1 | sed "s/^/[ti eager fast_launch=$f #$i] /" | tee -a "$OUT/targets16.txt"
  done; done
  for spec in vim_tiny_patch16_224:0,1,2,5 vim_small_patch16_224:0,1,11; do
    timeout 90 $RM bench --model ${spec%%:*} --r ${spec##*:} --dtype fp16 --cuda-graph --merge-cost 2>&1 \
      | sed "s/^/[${spec%%:*} merge cost] /" | tee -a "$OUT/targets16.txt"
  done
  # every r, interleaved in CUDA graphs; exits 1 (reported on the last line) where merging costs more than it saves
  [ "${CURVE:-1}" = 1 ] && timeout ${CURVE_TIMEOUT:-330} python3 scripts/bench_merge_curve.py --r all --rounds 5 \
    --iters 10 --check 2>&1 | grep -v -i warn | tee "$OUT/merge_curve.txt" ;;
data)
  python3 -c "from rmeeto.data.synthetic import make_fake_jpeg_folder as f; f('/tmp/fakeinet', classes=10, per_class=300, val_per_class=20, size=(500,375))"
  $RM bench-data --data-dir /tmp/fakeinet --model vim_small_patch16_224 --r 11 --workers 14 --batch-size 128 --path both --steps 40 2>&1 | tail -20 | tee "$OUT/bench_data.txt"
  $RM train --data-dir /tmp/fakeinet --model vim_small_patch16_224 --num-classes 10 --r 11 --epochs 1 --batch-size 128 --workers 14 --no-initial-eval --no-progress --overwrite --output /tmp/e2e_cpu 2>&1 | tail -6 | tee "$OUT/e2e_cpu_loader.txt"
  $RM train --data-dir /tmp/fakeinet --model vim_small_patch16_224 --num-classes 10 --r 11 --epochs 1 --batch-size 128 --workers 14 --gpu-decode --no-initial-eval --no-progress --overwrite --output /tmp/e2e_gpu 2>&1 | tail -6 | tee "$OUT/e2e_gpu_loader.txt" ;;
proxy)
  # the small demo model shipped in the package, then the Vim-Ti-shaped proxy; both from scratch
  timeout ${DEMO_TIMEOUT:-150} $RM train -c configs/fmnist_demo_vim.yaml --data-dir "$FMNIST" --no-progress --time-budget ${DEMO_MINUTES:-1.7} --overwrite --output /tmp/demo_vim > "$OUT/demo_vim.log" 2>&1
  timeout ${PROXY_TIMEOUT:-480} $RM train -c configs/fmnist_proxy_vim.yaml --data-dir "$FMNIST" --no-progress --time-budget ${PROXY_MINUTES:-7} --overwrite --output /tmp/proxy > "$OUT/proxy_vim.log" 2>&1
  python3 scripts/export_model.py /tmp/demo_vim/checkpoint.pth "$OUT/fmnist_demo_vim.pth" float32
  python3 scripts/export_model.py /tmp/proxy/checkpoint.pth "$OUT/fmnist_proxy_vim_fp16.pth" float16
  cp /tmp/proxy/metrics.jsonl "$OUT/proxy_metrics.jsonl"; cp /tmp/demo_vim/metrics.jsonl "$OUT/demo_metrics.jsonl" ;;
study)
  CK=${PROXY_CKPT:-/tmp/proxy/checkpoint.pth}; [ -f "$CK" ] || CK=$PWD/checkpoints/fmnist_proxy_vim_fp16.pth
  for stage in ${STUDY_STAGES:-free retrain vit order}; do
    timeout ${STAGE_TIMEOUT:-900} $RM study $stage --checkpoint "$CK" --data-dir "$FMNIST" --out "$OUT/study" --vit-epochs ${VIT_EPOCHS:-15} ${STUDY_ARGS:-} 2>&1 | grep -v "^ " >> "$OUT/study.log"
  done ;;
study2)
  # on a 2-GPU machine: the study's runs split over both GPUs, in parallel; each GPU its own out dir
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}
  CUDA_VISIBLE_DEVICES=0 timeout ${STAGE_TIMEOUT:-560} $RM study retrain --checkpoint "$CK" --data-dir "$FMNIST" \
    --out /tmp/study0 ${STUDY0_ARGS:-} > "$OUT/study0.log" 2>&1 &
  CUDA_VISIBLE_DEVICES=1 bash -c "timeout ${STAGE_TIMEOUT:-560} $RM study order vit --checkpoint $CK --data-dir $FMNIST \
    --out /tmp/study1 ${STUDY1_ARGS:-}" > "$OUT/study1.log" 2>&1 &
  wait
  tar czf "$OUT/study_runs.tgz" --exclude="*.pth" --exclude="*tfevents*" -C /tmp study0 study1 ;;
scale)
  # end-to-end re-training (JPEG folder, CPU decode + full DeiT augmentation, Vim-S r=11) on 1 and 2 GPUs
  fakeinet
  for n in 1 2; do
    timeout ${SCALE_TIMEOUT:-150} torchrun --standalone --nproc_per_node=$n -m rmeeto.cli train --data-dir /tmp/fakeinet \
      --model vim_small_patch16_224 --num-classes 10 --merge-r 11 --epochs ${SCALE_EPOCHS:-4} --batch-size 128 \
      --workers ${WORKERS:-$((28 / n))} --no-initial-eval --no-progress --overwrite --output /tmp/scale_$n > "$OUT/scale_$n.log" 2>&1
    grep -E "^training|^epoch|error" "$OUT/scale_$n.log" | sed "s/^/[$n GPU] /" | tee -a "$OUT/scale.txt"
  done ;;
workers)
  # is end-to-end throughput starved by the loader workers? one GPU, 3 epochs per worker count
  fakeinet
  for w in ${WORKER_LIST:-4 8 12 14}; do
    timeout 120 $RM train --data-dir /tmp/fakeinet --model vim_small_patch16_224 --num-classes 10 --r 11 --epochs 3 \
      --batch-size 128 --workers $w --no-initial-eval --no-progress --overwrite --output /tmp/workers_$w 2>&1 \
      | grep -E "^epoch|error" | sed "s/^/[workers $w] /" | tee -a "$OUT/workers.txt"
  done ;;
proxy4)
  # the proxy from scratch on 4 GPUs of one host (global batch 512), fitted to a wall-clock budget
  info > "$OUT/env.txt"
  timeout ${PROXY_TIMEOUT:-570} torchrun --standalone --nproc_per_node=${NGPU:-4} -m rmeeto.cli train -c configs/fmnist_proxy_vim.yaml \
    --data-dir "$FMNIST" --no-progress --batch-size ${PROXY_BS:-128} --time-budget ${PROXY_MINUTES:-7.6} \
    --checkpoint-interval 1 --overwrite --output runs/proxy4 > "$OUT/proxy_vim.log" 2>&1
  python3 scripts/export_model.py runs/proxy4/checkpoint.pth "$OUT/fmnist_proxy_vim_fp16.pth" float16
  cp runs/proxy4/metrics.jsonl "$OUT/proxy_metrics.jsonl"
  grep -E "^epoch|^training|error|budget" "$OUT/proxy_vim.log" | tail -40 ;;
study4)
  # the re-training grid on a 4-GPU host, one (mode, distillation) pair per GPU, all in parallel
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}
  g=0
  for md in "merge 0" "merge 1" "prune 0" "prune 1"; do set -- $md
    CUDA_VISIBLE_DEVICES=$g timeout ${STAGE_TIMEOUT:-540} $RM study retrain --retrain-modes $1 --distill-options $2 \
      --checkpoint "$CK" --data-dir "$FMNIST" --out /tmp/study_g$g > "$OUT/study_gpu$g.log" 2>&1 &
    g=$((g + 1))
  done
  wait
  tar czf "$OUT/study_runs.tgz" --exclude="*.pth" --exclude="*tfevents*" -C /tmp study_g0 study_g1 study_g2 study_g3
  tail -n 3 "$OUT"/study_gpu*.log ;;
mixed4)
  # a 4-GPU host, 16 cores pinned per GPU (like a one-GPU 16-core machine), four jobs in parallel:
  # GPU 0 order ablation + training-free table + demo; GPU 1 ViT + kernel targets; GPU 2 GPU tests;
  # GPU 3 loader and end-to-end JPEG runs; then GPUs 2+3 the 2-process end-to-end run
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}
  (export CUDA_VISIBLE_DEVICES=0
   taskset -c 0-15 timeout 200 $RM study order --orders shuffle --checkpoint "$CK" --data-dir "$FMNIST" --out /tmp/study_o
   taskset -c 0-15 timeout 150 $RM study free --checkpoint "$CK" --data-dir "$FMNIST" --out /tmp/study_o
   taskset -c 0-15 timeout 120 $RM demo --device cuda --checkpoint "$CK" --data-dir "$FMNIST" --out /tmp/demo_cuda
  ) > "$OUT/gpu0.log" 2>&1 &
  (export CUDA_VISIBLE_DEVICES=1
   taskset -c 16-31 timeout 330 $RM study vit --vit-epochs ${VIT_EPOCHS:-30} --checkpoint "$CK" --data-dir "$FMNIST" --out /tmp/study_o
   taskset -c 16-31 timeout 150 python3 scripts/bench_targets.py --json /tmp/study_o/targets.json
  ) > "$OUT/gpu1.log" 2>&1 &
  (export CUDA_VISIBLE_DEVICES=2
   taskset -c 32-47 timeout 230 python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_triton_ops.py tests/test_fused_merge.py tests/test_gpu_augment.py 2>&1 | tail -25
  ) > "$OUT/gpu2.log" 2>&1 &
  (export CUDA_VISIBLE_DEVICES=3
   python3 -c "from rmeeto.data.synthetic import make_fake_jpeg_folder as f; f('/tmp/fakeinet', classes=10, per_class=500, val_per_class=20, size=(500,375))"
   taskset -c 48-63 timeout 60 $RM bench-data --data-dir /tmp/fakeinet --model vim_small_patch16_224 --r 11 --workers 14 --batch-size 128 --path both --steps 30 2>&1 | tail -12
   for dec in "" "--gpu-decode"; do
     taskset -c 48-63 timeout 100 $RM train --data-dir /tmp/fakeinet --model vim_small_patch16_224 --num-classes 10 --r 11 --epochs 3 \
       --batch-size 128 --workers 14 $dec --no-initial-eval --no-progress --overwrite --output /tmp/e2e$dec 2>&1 | grep -E "^training|^epoch|rror|NaN|non-finite" | sed "s/^/[1 GPU $dec] /"
   done
  ) > "$OUT/gpu3.log" 2>&1 &
  wait %3 %4
  CUDA_VISIBLE_DEVICES=2,3 taskset -c 32-63 timeout 110 torchrun --standalone --nproc_per_node=2 -m rmeeto.cli train --data-dir /tmp/fakeinet \
    --model vim_small_patch16_224 --num-classes 10 --merge-r 11 --epochs 3 --batch-size 128 --workers 14 --no-initial-eval --no-progress \
    --overwrite --output /tmp/e2e_2gpu 2>&1 | grep -E "^training|^epoch|rror" | sed "s/^/[2 GPU] /" >> "$OUT/gpu3.log"
  wait
  cp /tmp/study_o/*.json "$OUT/" 2>/dev/null
  tar czf "$OUT/mixed_runs.tgz" --exclude="*.pth" --exclude="*tfevents*" -C /tmp study_o demo_cuda e2e e2e--gpu-decode e2e_2gpu 2>/dev/null
  tail -n 30 "$OUT"/gpu*.log ;;
recipe4)
  # the study's recipe stage on a 4-GPU host: every candidate re-training recipe, scored on 10k held-out
  # train images, one run per GPU at a time; then the report of what it chose
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}; info > "$OUT/env.txt"
  timeout ${STAGE_TIMEOUT:-560} $RM study recipe --gpus 0 1 2 3 --checkpoint "$CK" --data-dir "$FMNIST" \
    --out /tmp/recipe > "$OUT/recipe.log" 2>&1
  cp /tmp/recipe/recipe.json "$OUT/"
  tar czf "$OUT/recipe_runs.tgz" --exclude="*.pth" --exclude="*tfevents*" -C /tmp/recipe runs
  tail -n 20 "$OUT/recipe.log" ;;
retrain4)
  # the retrain and order stages with the recipe the recipe stage chose ($RECIPE), on a 4-GPU host
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}; info > "$OUT/env.txt"
  timeout ${STAGE_TIMEOUT:-560} $RM study retrain order --recipe ${RECIPE:-auto} --gpus 0 1 2 3 --orders shuffle \
    --checkpoint "$CK" --data-dir "$FMNIST" --out docs/reproduction > "$OUT/retrain4.log" 2>&1
  cp docs/reproduction/retrain_*.json docs/reproduction/order_*.json "$OUT/"
  tar czf "$OUT/retrain4_runs.tgz" --exclude="*.pth" --exclude="*tfevents*" -C docs/reproduction runs
  tail -n 20 "$OUT/retrain4.log" ;;
h100)
  # on one H100: the GPU demo, then one 3-epoch re-training at ratio 0.31 timed on that card
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}
  info > "$OUT/env.txt"
  [ "${H100_DEMO:-1}" = 1 ] && timeout 110 $RM demo --device cuda --checkpoint "$CK" --data-dir "$FMNIST" --out "$OUT/demo_cuda" > "$OUT/demo_cuda.log" 2>&1
  timeout 170 $RM study retrain --retrain-modes merge --distill-options 0 --epochs-list 3 --checkpoint "$CK" \
    --recipe ${RECIPE:-base} --data-dir "$FMNIST" --out /tmp/h100 > "$OUT/retrain_h100.log" 2>&1
  for f in /tmp/h100/retrain*.json; do b=$(basename "$f" .json); cp "$f" "$OUT/retrain_h100${b#retrain}.json"; done
  cat "$OUT"/demo_cuda.log "$OUT/retrain_h100.log" 2>/dev/null ;;
h100grid)
  # on one H100, one run at a time: the whole retrain grid of $RECIPE, the unmerged control, seed repeats of the 3-epoch
  # runs, resumable over several calls. Results collect in runs/h100grid/retrain_$RECIPE.json (carry it
  # back in); a run that would not finish inside GRID_SECONDS (est. 29 s/epoch, 42 with distillation,
  # +20 s start-up) is left for the next call, so no call is killed mid-run.
  CK=${PROXY_CKPT:-$PWD/checkpoints/fmnist_proxy_vim_fp16.pth}; REC=${RECIPE:-lr3e-4-noreg}; G=runs/h100grid
  info > "$OUT/env.txt"; mkdir -p $G; t0=$SECONDS
  [ -f $G/retrain_$REC.json ] || cp docs/reproduction/retrain_h100_$REC.json $G/retrain_$REC.json; chmod u+w $G/*.json
  for job in ${GRID_JOBS:-"merge 1 5 0" "prune 1 5 0" "merge 0 5 0" "prune 0 5 0" "merge 1 3 0" "prune 1 3 0" \
      "prune 0 3 0" "merge 0 3 1" "merge 0 3 2" "merge 1 1 0" "prune 1 1 0" "merge 0 1 0" "prune 0 1 0" "unmerged 0 3 0" \
      "prune 0 3 1" "prune 0 3 2"}; do set -- $job
    name=$1$([ $2 = 1 ] && echo -distill)-$3ep$([ $4 != 0 ] && echo -seed$4)
    grep -q "\"$name\"" $G/retrain_$REC.json && continue
    est=$(( $3 * ($2 == 1 ? 42 : 29) + 20 ))
    if [ $((SECONDS - t0 + est)) -gt ${GRID_SECONDS:-560} ]; then echo "left for the next call: $name (est. ${est}s)"; continue; fi
    $RM study retrain --retrain-modes $1 --distill-options $2 --epochs-list $3 --seeds $4 --recipe $REC \
      --checkpoint "$CK" --data-dir "$FMNIST" --out $G 2>&1 | grep -v "^re-training recipe" | tee -a "$OUT/h100grid.log"
  done
  cp $G/retrain_$REC.json "$OUT/"
  tar czf "$OUT/h100grid_runs.tgz" --exclude="*.pth" --exclude="*tfevents*" -C $G runs ;;
e2e)
  # one GPU, 16 cores: the loader alone, then 3 epochs of end-to-end re-training (CPU decode, full DeiT
  # augmentation, Vim-S r=11, b128, bf16); epoch 1 includes Triton compilation
  info > "$OUT/env.txt"; fakeinet
  find /tmp/fakeinet -name "*.JPEG" | wc -l | sed 's/^/JPEG files: /' | tee "$OUT/e2e.txt"
  timeout 90 $RM bench-data --data-dir /tmp/fakeinet --model vim_small_patch16_224 --r 11 --workers 14 --batch-size 128 \
    --path cpu --steps 30 2>&1 | tail -8 | tee -a "$OUT/e2e.txt"
  timeout ${E2E_TIMEOUT:-200} $RM train --data-dir /tmp/fakeinet --model vim_small_patch16_224 --num-classes 10 --r 11 \
    --epochs ${E2E_EPOCHS:-3} --batch-size 128 --workers 14 --no-initial-eval --no-progress --overwrite --output /tmp/e2e 2>&1 \
    | grep -E "^training|^epoch|rror|NaN|non-finite" | sed "s/^/[1 GPU] /" | tee -a "$OUT/e2e.txt"
  cp /tmp/e2e/metrics.jsonl "$OUT/e2e_1gpu_metrics.jsonl" ;;
trainab)
  # the Vim-S bf16 training step at this tree and at an older commit (its src/ packed by
  # `git archive -o .device_data/src_REV.tgz REV src`), alternating, in one process each, then a profile of both
  info | tee "$OUT/env.txt"
  OLD_REV=${OLD_REV:-81276be}; rm -rf /tmp/old && mkdir -p /tmp/old && tar xzf .device_data/src_$OLD_REV.tgz -C /tmp/old
  for i in 1 2; do for tree in new old; do
    src=$PWD/src; [ $tree = old ] && src=/tmp/old/src
    PYTHONPATH=$src timeout 90 $RM bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train --warmup 5 --iters 20 \
      2>&1 | sed "s/^/[train $tree #$i] /" | tee -a "$OUT/trainab.txt"
  done; done
  for tree in new old; do
    src=$PWD/src; [ $tree = old ] && src=/tmp/old/src
    PYTHONPATH=$src timeout 120 python3 scripts/profile_train.py --variants base+prof > "$OUT/prof_$tree.txt" 2>&1
  done ;;
mergeprof)
  # where merged inference spends its time: kernel lists of eager forwards, the merge blocks' own cost, the
  # training step's profile
  info | tee "$OUT/env.txt"
  timeout 120 python3 scripts/profile_forward.py --model vim_tiny_patch16_224 --r 0,1,5 --top 14 2>&1 | tee "$OUT/prof_fwd_ti.txt"
  timeout 120 python3 scripts/profile_forward.py --model vim_small_patch16_224 --r 0,11 --top 14 2>&1 | tee "$OUT/prof_fwd_s.txt"
  for spec in vim_tiny_patch16_224:0,1,5 vim_small_patch16_224:0,1,11; do
    timeout 90 $RM bench --model ${spec%%:*} --r ${spec##*:} --dtype fp16 --cuda-graph --merge-cost 2>&1 \
      | sed "s/^/[${spec%%:*} merge cost] /" | tee -a "$OUT/merge_cost.txt"
  done
  timeout 150 python3 scripts/profile_train.py --variants base+prof --top 20 2>&1 | tee "$OUT/prof_train.txt" ;;
fwdchunk)
  # the forward's step-serial / chunked choice since the 64-channel programs, the merge plan's warps, the merge
  # cost against the merge kernels' own time
  info | tee "$OUT/env.txt"
  timeout 120 python3 -m pytest -q -m gpu tests/test_gpu_bench.py 2>&1 | tail -3 | tee "$OUT/gpu_tests.txt"
  timeout 200 python3 scripts/bench_scan.py --fwd-only --dirs 1,2 --tc auto,0,32,64 --rep 30 \
    --shapes ${FWD_SHAPES:-128x384x197,64x384x197,32x384x197,128x768x197,64x768x197,32x768x197,32x768x1569,8x1152x1569,16x768x3137} \
    --json "$OUT/fwdchunk.json" 2>&1 | tee "$OUT/fwdchunk.txt"
  for spec in 192:1 384:11 768:11; do
    timeout 60 python3 scripts/bench_merge.py --batch 128 --dim ${spec%%:*} --lens 197 --r ${spec##*:} --plan-warps 2,4,8,16 \
      2>&1 | tee -a "$OUT/bench_merge.txt"
  done
  timeout 90 $RM bench --model vim_tiny_patch16_224 --r 0,1,5 --dtype fp16 --cuda-graph --merge-cost 2>&1 \
    | grep -v -i warn | tee -a "$OUT/merge_cost.txt" ;;
bwdsweep)
  # the scan backward: GPU correctness, this tree against OLD_SCAN (a dotted module, e.g. an older scan.py placed
  # in the package) and the backward re-blocked (BWD_SWEEP), then the Vim-S training step
  info | tee "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-200} python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_scan_chunk.py 2>&1 \
    | tail -4 | tee "$OUT/gpu_tests.txt"
  timeout ${BENCH_TIMEOUT:-300} python3 scripts/bench_scan.py ${OLD_SCAN:+--old $OLD_SCAN} --dirs 2 --tc auto --rep 30 \
    --shapes ${SWEEP_SHAPES:-128x768x197,128x384x197,32x768x1569} --bwd-cfg ${BWD_SWEEP:-32/1/8/168,32/1/8/128,16/1/8,16/1/8/128,32/2/8,32/1/16} \
    --json "$OUT/bwdsweep.json" 2>&1 | tee "$OUT/bwdsweep.txt"
  timeout 120 $RM bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train --warmup 5 --iters 20 2>&1 \
    | sed 's/^/[vim_s train] /' | tee -a "$OUT/bwdsweep.txt" ;;
conv)
  # the fused conv kernels at each block configuration, then Nsight Compute on the forward kernel at Vim-S
  info | tee "$OUT/env.txt"
  timeout 240 python3 scripts/bench_conv.py ${CONV_CFGS:+--cfgs $CONV_CFGS} 2>&1 | tee "$OUT/bench_conv.txt"
  timeout 120 ncu --clock-control none -k regex:_biconv_fwd -c 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
    --section WarpStateStats --section Occupancy --section LaunchStats python3 -c "
import torch
from rmeeto.ops.triton import bimamba as tb
xz = torch.randn(128, 197, 1536, device='cuda', dtype=torch.half)
w, b = torch.randn(2, 768, 4, device='cuda'), torch.randn(2, 768, device='cuda')
for _ in range(2): tb.biconv_fwd(xz[..., :768], w, b, torch.half)
torch.cuda.synchronize()" > "$OUT/ncu_conv_fwd.txt" 2>&1; tail -n 80 "$OUT/ncu_conv_fwd.txt" ;;
confcheck)
  # after a kernel-configuration change: the GPU tests of the kernels and the official-fixture parity, the conv
  # configurations near the chosen ones, then the issue's targets (CUDA graph, batch 128, fp16) and the training step
  info | tee "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-200} python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_triton_ops.py \
    tests/test_gpu_bench.py 2>&1 | tail -4 | tee "$OUT/gpu_tests.txt"
  timeout 60 python3 scripts/bench_conv.py --shapes 128x768x197 --cfgs 16/128/4,32/64/2,16/128/2,8/128/4,32/128/2,32/64/1,16/64/2 \
    2>&1 | tee "$OUT/bench_conv.txt"
  graph_targets
  timeout 120 $RM bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train --warmup 5 --iters 20 2>&1 \
    | sed 's/^/[vim_s train] /' | tee -a "$OUT/targets.txt" ;;
videoquick)
  # VideoMamba-S clips/s in a CUDA graph, unmerged and r=88 (8 frames, batch 32, fp16)
  info | tee "$OUT/env.txt"
  timeout ${VQ_TIMEOUT:-120} $RM bench --model videomamba_small --r 0,88 --batch-size 32 --dtype fp16 --warmup 5 --iters 20 \
    --cuda-graph 2>&1 | grep -v -i warn | tee "$OUT/video_graph_small.txt" ;;
verify)
  # after kernel changes made without a GPU: the GPU tests of every kernel (official-fixture parity included),
  # then the issue's targets in a CUDA graph with the merge blocks' cost, and eager Vim-Ti twice
  info | tee "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-400} python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_scan_chunk.py \
    tests/test_fused_merge.py tests/test_gpu_model.py tests/test_gpu_launch.py 2>&1 | tail -6 | tee "$OUT/gpu_tests.txt"
  graph_targets
  eager_ti ;;
scanfwd)
  # the forward scan against OLD_SCAN (a dotted module: an earlier scan.py placed in the package) at the issue's
  # shapes, with an fp32 check of output and gradients; then the targets in a CUDA graph, where the forward's
  # time goes, eager Vim-Ti, the training step, VideoMamba-S; last the GPU tests of the kernels and models
  info | tee "$OUT/env.txt"; md5sum src/rmeeto/ops/triton/*.py src/rmeeto/models/*.py >> "$OUT/env.txt"
  timeout 150 python3 scripts/bench_scan.py ${OLD_SCAN:+--old $OLD_SCAN} --dirs 1,2 --tc auto --rep 30 --check \
    --shapes ${SCAN_SHAPES:-128x768x197,128x1536x197,32x768x1569,16x768x3137,8x1152x1569} 2>&1 | tee "$OUT/scan.txt"
  graph_targets vim_base_patch16_224:--r:0,11
  eager_ti
  timeout 60 python3 scripts/profile_forward.py --r 0 --top 8 2>&1 | grep -v -i warn | tee "$OUT/prof_fwd_s.txt"
  TRAIN_TIMEOUT=100 train_s
  video_s_graph
  timeout ${TEST_TIMEOUT:-200} python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py \
    tests/test_gpu_videomamba.py 2>&1 | tail -6 | tee "$OUT/gpu_tests.txt" ;;
scanncu)
  # the forward scan alone against OLD_SCAN; Nsight Compute on the forward kernel (one direction, Vim-S); the
  # merge at video lengths; the targets again (CUDA graph), VideoMamba-S and the training step
  info | tee "$OUT/env.txt"; md5sum src/rmeeto/ops/triton/*.py >> "$OUT/env.txt"
  timeout 100 python3 scripts/bench_scan.py ${OLD_SCAN:+--old $OLD_SCAN} --fwd-only --dirs 1,2 --tc auto --rep 30 \
    --shapes ${SCAN_SHAPES:-128x768x197,128x1536x197,32x768x1569,8x1152x1569} 2>&1 | tee "$OUT/scan_fwd.txt"
  timeout 120 ncu --clock-control none -k regex:_scan_fwd_seq_kernel -c 1 --section SpeedOfLight --section WarpStateStats \
    --section SchedulerStats --section ComputeWorkloadAnalysis --section InstructionStats --section Occupancy \
    python3 -c "
import sys, torch; sys.path.insert(0, 'scripts')
import bench_scan as bs
from rmeeto.ops.triton import scan
t = bs._inputs(1, 128, 768, 197, 16, torch.float16)
for _ in range(2): bs._run(scan, t, dict(TC=0), False)
torch.cuda.synchronize()" > "$OUT/ncu_fwd.txt" 2>&1
  timeout 60 python3 scripts/bench_merge.py --batch 32 --dim 384 --lens 1569,3137 --r 88,88 2>&1 | tee "$OUT/bench_merge_video.txt"
  graph_targets
  video_s_graph
  TRAIN_TIMEOUT=100 train_s ;;
videoplan)
  # after a merge-plan change: the fused merge's GPU tests (video lengths, both bookkeeping paths) and the compiled
  # video model; the plan's kernels at 1569 / 3137 tokens; one merge step; VideoMamba-S and Vim-Ti in a CUDA graph
  info | tee "$OUT/env.txt"; md5sum src/rmeeto/ops/triton/*.py >> "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-200} python3 -m pytest -q -m gpu tests/test_fused_merge.py \
    tests/test_gpu_compile.py::test_compiled_video_model_with_the_tiled_merge 2>&1 | tail -6 | tee "$OUT/gpu_tests.txt"
  timeout 60 python3 scripts/profile_merge_plan.py 2>&1 | grep -v -i warn | tee "$OUT/plan_profile.txt"
  timeout 60 python3 scripts/bench_merge.py --batch 32 --dim 384 --lens 1569,3137 --r 88,88 2>&1 | tee "$OUT/bench_merge_video.txt"
  video_s_graph
  timeout 90 $RM bench --model vim_tiny_patch16_224 --r 0,1,5 --dtype fp16 --cuda-graph --merge-cost 2>&1 \
    | grep -E "^auto" | sed 's/^/[vim_tiny graph] /' | tee -a "$OUT/targets.txt" ;;
regcap)
  # the forward scan's register cap (FWD_CFG maxnreg): the scan alone with the defaults and at caps none, 112 and
  # 120, one launch and the two-stream one; then every target in a graph, VideoMamba-S and the training step at each
  # of $CAPS (0 = none), one process per configuration
  info | tee "$OUT/env.txt"; md5sum src/rmeeto/ops/triton/*.py >> "$OUT/env.txt"
  timeout 170 python3 scripts/bench_scan.py --fwd-only --dirs 1,2 --tc auto --be default,64/1/0,64/1/112,64/1/120 \
    --rep 30 --shapes 128x768x197,128x384x197,32x768x1569,8x1152x1569 2>&1 | grep -v -i warn | tee "$OUT/scan_regcap.txt"
  timeout 80 python3 scripts/bench_scan.py --fwd-only --dirs 2 --tc auto --split --be default,64/1/0,64/1/112,64/1/120 \
    --rep 30 --shapes 128x768x197,128x384x197 2>&1 | grep -v -i warn | tee "$OUT/scan_regcap_split.txt"
  for cap in ${CAPS:-120 0 112}; do
    echo "# fwd.maxnreg=$cap" >> "$OUT/targets.txt"
    targets_with_cap "$cap"
  done ;;
regab)
  # the forward scan's register cap, configurations interleaved in one process (scripts/ab_scan_cfg.py), with
  # MODEL:R:BATCH specs in $AB_MODELS and TRAIN=0 to skip the training step:
  # $AB_CONFIGS (default: the defaults twice, as a control of the graphs' memory placement, no cap, 120, 128) on Vim-S, Vim-Ti and VideoMamba-S in graphs, then training
  info | tee "$OUT/env.txt"; md5sum src/rmeeto/ops/triton/*.py >> "$OUT/env.txt"
  AB=${AB_CONFIGS:-;;fwd.maxnreg=0;fwd.maxnreg=120;fwd.maxnreg=128}
  for spec in ${AB_MODELS:-vim_small_patch16_224:0,11:128 vim_tiny_patch16_224:0,5:128 videomamba_small:0,88:32}; do
    IFS=: read -r model rs batch <<< "$spec"
    timeout 150 python3 scripts/ab_scan_cfg.py --model $model --r $rs --batch $batch --configs "$AB" 2>&1 \
      | grep -v -i warn | tee -a "$OUT/ab.txt"
  done
  [ "${TRAIN:-1}" = 1 ] && timeout 150 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --train --rounds 5 --iters 10 \
    --configs "${AB_TRAIN_CONFIGS:-;fwd.maxnreg=0}" 2>&1 | grep -v -i warn | tee -a "$OUT/ab.txt" ;;
contract)
  # the selective_scan_fn contract: chunked-scan GPU tests while mamba_ssm builds (from $MAMBA_SDIST), then, with
  # nothing else running, the contract's per-kernel and host profile, the chunk lengths re-swept, and mamba_ssm
  info | tee "$OUT/env.txt"; md5sum src/rmeeto/ops/triton/*.py >> "$OUT/env.txt"
  (bash scripts/build_mamba_ssm.sh "${MAMBA_SDIST:-.device_data/mamba_ssm-2.3.1.tar.gz}" /tmp/mamba_whl \
    > "$OUT/mamba_build.txt" 2>&1) & bpid=$!
  timeout 270 python3 -m pytest -q -m gpu tests/test_scan_chunk.py tests/test_triton_ops.py -p no:cacheprovider 2>&1 \
    | tail -5 | tee "$OUT/gpu_tests.txt"
  wait $bpid
  timeout 100 python3 scripts/bench_vs_mamba_ssm.py --profile 8x1152x1569,16x768x3137 2>&1 | grep -v -i warn \
    | tee "$OUT/profile.txt"
  timeout 150 python3 scripts/bench_scan.py --shapes 32x768x1569,16x768x3137,8x1152x1569 --dirs 1,2 \
    --tc auto,64,96,128,192,256 --rep 40 2>&1 | grep -v -i warn | tee "$OUT/sweep.txt"
  timeout 120 python3 scripts/bench_vs_mamba_ssm.py --layout-cfgs 64/64/4 2>&1 | grep -v -i warn | tee "$OUT/vs_mamba_ssm.txt" ;;
graphrefresh)
  # rmeeto.cuda_graphs.graphed reading the cached stacks, restacked on the host when weights change (c9f696f; bench
  # checks after enqueuing the replay since 3935816): the
  # GPU tests of graphs and compile, then rmeeto bench --cuda-graph with RMEETO_GRAPH_WEIGHTS live and frozen in turn
  # (the same graph now; live adds the host's version check), Vim-Ti r=0,5, Vim-S r=0,11 and ratio 0.54
  info | tee "$OUT/env.txt"
  timeout ${TEST_TIMEOUT:-260} python3 -m pytest -q -m gpu tests/test_gpu_compile.py tests/test_gpu_model.py \
    tests/test_fused_merge.py 2>&1 | tail -8 | tee "$OUT/gpu_tests.txt"
  for gw in live frozen; do
    for spec in vim_tiny_patch16_224:--r:0,5 vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54; do
      IFS=: read -r model flag vals <<< "$spec"
      RMEETO_GRAPH_WEIGHTS=$gw timeout 60 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph --iters 60 \
        2>&1 | grep -E "^auto" | sed "s/^/[$gw $model graph] /" | tee -a "$OUT/graphrefresh.txt"
    done
  done ;;
hostab)
  # host work per block at this tree and at OLD_REV (its src/ packed by `git archive -o .device_data/src_REV.tgz REV
  # src`): the GPU tests of the changed paths, then eager Vim-Ti r=0,5 and Vim-S r=0,11 alternating one process per
  # tree, and a merge block's host parts with CUDA tensors
  info | tee "$OUT/env.txt"
  OLD_REV=${OLD_REV:-c58cdf4}; rm -rf /tmp/old && mkdir -p /tmp/old && tar xzf .device_data/src_$OLD_REV.tgz -C /tmp/old
  timeout ${TEST_TIMEOUT:-240} python3 -m pytest -q -m gpu tests/test_fused_merge.py -k "once or patched or add_norm" \
    2>&1 | tail -4 | tee "$OUT/hostab_tests.txt"
  timeout ${TEST_TIMEOUT:-240} python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_model.py 2>&1 \
    | tail -4 | tee -a "$OUT/hostab_tests.txt"
  for i in 1 2 3; do for tree in new old; do
    src=$PWD/src; [ $tree = old ] && src=/tmp/old/src
    for mr in vim_tiny_patch16_224:0,5 vim_small_patch16_224:0,11; do
      PYTHONPATH=$src timeout 60 $RM bench --model ${mr%%:*} --r ${mr#*:} --dtype fp16 --rounds 5 2>&1 | grep -E "^auto" \
        | sed "s/^/[$tree #$i ${mr%%:*}] /" | tee -a "$OUT/hostab.txt"
    done
  done; done
  for tree in new old; do
    src=$PWD/src; [ $tree = old ] && src=/tmp/old/src
    PYTHONPATH=$src timeout 60 python3 scripts/bench_host_parts.py --device cuda --batch 128 --number 500 2>&1 \
      | sed "s/^/[$tree parts] /" | tee -a "$OUT/hostab.txt"
  done ;;
pending)
  # the GPU test files not run since eaea2b0's src/ (the official VideoMamba fixture, the chunked scan, graphed
  # training, the rest of the merge tests; eight workers, none of these tests times anything), the host-share test
  # alone, then default torch.compile against compiles without Inductor's input asserts and Dynamo's module guards
  info | tee "$OUT/env.txt"
  HS=tests/test_gpu_bench.py::test_host_share_tells_a_host_bound_forward_from_a_graph_replay
  timeout ${TEST_TIMEOUT:-300} python3 -m pytest -m gpu -n 8 -v -p no:cacheprovider -rfE tests/test_gpu_videomamba.py \
    tests/test_scan_chunk.py tests/test_gpu_train_graph.py tests/test_fused_merge.py > "$OUT/pending_tests.txt" 2>&1
  grep -E "FAILED|ERROR|passed|failed" "$OUT/pending_tests.txt" | tail -15
  timeout 60 python3 -m pytest -m gpu -v -p no:cacheprovider $HS 2>&1 | tail -3 | tee "$OUT/pending_host_share.txt"
  timeout 240 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 11 \
    --variants default,no-asserts,no-module-guards,lean --rounds 8 --iters 15 2>&1 \
    | grep --line-buffered -v -i "warn\|^W1" | tee "$OUT/pending_compile.txt" ;;
frozen)
  # torch.compile with Inductor's freezing on while Dynamo traces (the weights then are constants, not 400 graph
  # inputs checked per call) against default torch.compile and eager: one process alternating, then rmeeto bench
  info | tee "$OUT/env.txt"
  timeout 120 python3 -m pytest -m gpu -v -p no:cacheprovider -rfE tests/test_gpu_compile.py -k frozen \
    > "$OUT/frozen_tests.txt" 2>&1; grep -E "PASS|FAIL|ERROR|passed|failed" "$OUT/frozen_tests.txt" | tail -6
  timeout 210 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 0 \
    --variants default,frozen,frozen-lean --rounds 6 --iters 15 2>&1 \
    | grep --line-buffered -v -i "warn\|^W1" | tee "$OUT/frozen_compare.txt"
  # unmerged only: a merged model's frozen graph gave NaN logits on 2026-12-06 (run 148's GPU test)
  for spec in vim_small_patch16_224:0 vim_tiny_patch16_224:0; do
    IFS=: read -r model rs <<< "$spec"
    timeout 170 $RM bench --model $model --r $rs --dtype fp16 --compile none,default,default+frozen 2>&1 \
      | grep -E "^auto" | sed "s/^/[$model] /" | tee -a "$OUT/frozen_bench.txt"
  done ;;
hostcheck)
  # why eager merged Vim-Ti enqueues slower than unmerged: synchronizing calls, then the Python functions
  info | tee "$OUT/env.txt"
  for r in 0 5; do
    timeout 90 python3 scripts/profile_host.py --model vim_tiny_patch16_224 --r $r --batch 128 --iters 10 --sync-check \
      --python 30 2>&1 | grep -v -i "warn(" | sed "s/^/[ti r=$r] /" | tee -a "$OUT/hostcheck.txt"
  done ;;
trainprof)
  # where the training step's time goes (Vim-S r=11 b128, and the proxy), with variants timed side by side
  info | tee "$OUT/env.txt"
  timeout 290 python3 scripts/profile_train.py --variants ${PROF_VARIANTS:-base+prof,pf2,lowp,pf2+lowp,tf32,base} > "$OUT/prof_vim_s.txt" 2>&1
  timeout 100 python3 scripts/profile_train.py --model vim_tiny_patch16_224 --model-kwargs img_size=56 patch_size=4 \
    stride=4 channels=1 num_classes=10 --batch 256 --variants ${PROXY_VARIANTS:-base+prof,pf2+lowp,base} > "$OUT/prof_proxy.txt" 2>&1
  timeout 150 python3 scripts/bench_kernels.py --no-ref --sweep --lens 197,136 > "$OUT/kernels.txt" 2>&1
  tail -n 60 "$OUT/prof_vim_s.txt"; tail -n 12 "$OUT/prof_proxy.txt"; tail -n 30 "$OUT/kernels.txt" ;;
tcache)
  tar czf "$OUT/triton_cache.tgz" -C "$TRITON_CACHE_DIR" . ;;
proxy2)
  # the proxy on 2 GPUs, resumable: runs/ is ignored by git, so it stays on the machine between
  # invocations; run it again to continue where it stopped
  timeout ${PROXY_TIMEOUT:-540} torchrun --standalone --nproc_per_node=2 -m rmeeto.cli train -c configs/fmnist_proxy_vim.yaml \
    --data-dir "$FMNIST" --no-progress --checkpoint-interval 1 --output runs/proxy2 --resume \
    >> "$OUT/proxy2.log" 2>&1
  grep -E "^epoch|^training|error|resum" "$OUT/proxy2.log" | tail -20 ;;
esac; done
ls -la "$OUT"
