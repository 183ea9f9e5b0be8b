# this project's 2-core CPU machine, 2026-12-07, src/, tests/ and scripts/ of the commit that adds this file: direct
# calls of the frozen graph under torch 2.11.0 and Python 3.12 (the versions of the GPU machines' images), in a
# separate environment (/tmp/v312: Python 3.12.1, pip install torch==2.11.0 numpy pytest safetensors hypothesis),
# then under this project's own environment (.venv: Python 3.11.7, torch 2.14.1)
export PYTHONPATH=$PWD/src
for py in /tmp/v312/bin/python .venv/bin/python; do
  $py scripts/check_direct_calls.py 2>&1 | grep -v -i "warn"
  $py -m pytest -q -p no:cacheprovider -p no:logging tests/test_compile.py \
    -k "direct or graph_break or adopted or side_effects" 2>&1 | tail -1
done
