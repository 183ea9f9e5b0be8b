#!/usr/bin/env bash
# The per-input checks of Inductor's generated code, timed in a loop: 400 fp32 (64, 16) tensors, best of 5 x 200.
.venv/bin/python - <<'PY'
import timeit

import torch
from torch._C._dynamo.guards import assert_alignment, assert_size_stride

ts = [torch.randn(64, 16) for _ in range(400)]
checks = {"assert_size_stride": lambda: [assert_size_stride(t, (64, 16), (16, 1)) for t in ts],
          "assert_alignment": lambda: [assert_alignment(t, 16) for t in ts]}
for name, fn in checks.items():
    print(f"{name}: {min(timeit.repeat(fn, number=200, repeat=5)) / 200 * 1e6:.1f} us per 400 inputs")
PY
