#!/usr/bin/env bash
# run 37: the text of the warning that run 36's DDP test gave (run 36's log had filtered it out)
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src; mkdir -p $OUT; date -u > $OUT/env.txt; md5sum src/rmeeto/train/dist.py tests/test_gpu_train_graph.py >> $OUT/env.txt; timeout 100 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py -k ddp -p no:cacheprovider -W always -rw 2>&1 | tail -30 | tee $OUT/ddp_warning.txt
