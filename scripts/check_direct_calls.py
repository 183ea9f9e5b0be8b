"""Whether ``rmeeto.compile_for_inference`` adopts its frozen Inductor graph for direct calls under this torch and
Python: a tiny Vim (as in ``tests/test_compile.py``), unmerged and merged, compiled twice (with and without direct
calls); per model, the calls into the compiled module on the compiling call and on the next one (0: direct), the
graphs adopted, and whether the direct logits equal those through Dynamo. Runs on the CPU (Inductor needs a C++
compiler) or, with ``--device cuda``, on the Triton path.

    PYTHONPATH=src python scripts/check_direct_calls.py [--device cuda]
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

import rmeeto

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from test_compile import _dynamo_entries, tiny_input, tiny_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    print(f"torch {torch.__version__}, Python {sys.version.split()[0]}, {a.device}")
    for r in (0, 6):
        torch._dynamo.reset()
        m, x = tiny_model(r).to(a.device), tiny_input().to(a.device)
        via_dynamo = rmeeto.compile_for_inference(m, direct_calls=False)
        direct = rmeeto.compile_for_inference(m)
        with torch.inference_mode():
            want = via_dynamo(x).clone()
            compiling, next_call = _dynamo_entries(direct, x), _dynamo_entries(direct, x)
            got = direct(x)
        print(f"r={r}: calls into the compiled module {compiling} (compiling) / {next_call} (next); graphs adopted "
              f"{len(direct.direct_calls.graphs)}; direct logits equal to those through Dynamo: {torch.equal(got, want)}")


if __name__ == "__main__":
    main()
