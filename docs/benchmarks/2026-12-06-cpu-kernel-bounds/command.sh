# this project's 2-core CPU machine, 2026-12-06, commit 9d4d8ad: scripts/check_kernel_bounds.py (Triton's interpreter)
# over tiny Vim-Ti, Vim-S and VideoMamba-Ti forwards, inference and training, unmerged and merged
export PYTHONPATH=src
for args in "--r 0,5" "--r 0,5 --train" "--r 3 --batch 3 --img 48" \
    "--model vim_small_patch16_224 --depth 4 --img 32 --r 0,1" "--model vim_small_patch16_224 --depth 4 --img 32 --r 1 --train" \
    "--model videomamba_tiny_patch16_224 --frames 4 --img 32 --r 0,5" \
    "--model videomamba_tiny_patch16_224 --frames 4 --img 32 --r 5 --train"; do
  echo "== $args"; python scripts/check_kernel_bounds.py $args > /tmp/bounds_one.txt 2>&1; echo "exit $?"
  grep -v "^$" /tmp/bounds_one.txt | grep -v -i warn; done
