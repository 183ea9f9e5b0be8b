#!/usr/bin/env bash
# Graph inputs and input asserts of Inductor's compiled code: default, freezing as a compile option, and
# rmeeto.compile_for_inference; on this project's 2-core CPU.
PYTHONPATH=src .venv/bin/python scripts/count_graph_inputs.py 2>&1 | grep -v "^W1"
