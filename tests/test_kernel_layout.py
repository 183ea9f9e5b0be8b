"""The forward scan's register layout does not depend on how its launcher specialises ``A``'s alignment.

Triton's own launch honours ``do_not_specialize``; Inductor, which launches the kernel itself for compiled
forwards with the traced ops, marks every 16-byte-aligned pointer divisible by 16. The scan's (states, channels)
tile takes its layout from the load of ``A``: when that load could be vectorised, Triton spread the states over
two lanes and the sum over states needed shuffles, and the scan ran 13 % slower under Inductor (one H200,
2026-12-04, docs/benchmarks/2026-12-04-h200-traced-scan). Compiled here for an sm_90 target, no GPU needed.
The one-launch merge step is compiled the same way, for what Triton's interpreter does not check.
"""
from __future__ import annotations

import re

import pytest

triton = pytest.importorskip("triton")

from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

from rmeeto.ops.triton import scan as ts  # noqa: E402

# the constexpr arguments and pointer types of a Vim forward at fp16 (two directions, gated, one chunk)
CONSTANTS = dict(s_u_e=1, s_dl_e=1, s_B_n=1, s_C_n=1, s_z_e=1, s_o_e=1, s_A_e=1, h0_ptr=None, NDIR=2,
                 HAS_Z=True, SOFTPLUS=True, HAS_H0=False, BLOCK_E=64, BLOCK_N=16, EVEN=True)
POINTERS = dict(u_ptr="*fp16", dl_ptr="*fp16", B_ptr="*fp16", C_ptr="*fp16", z_ptr="*fp16", out_ptr="*fp16",
                A_ptr="*fp32", D_ptr="*fp32", bias_ptr="*fp32")
# what a launcher marks divisible by 16 for a Vim forward's tensors (contiguous fp16 activations, E = 384)
ALIGNED = set(POINTERS) | {"s_u_d", "s_u_b", "s_u_l", "s_dl_d", "s_dl_b", "s_dl_l", "s_A_d", "s_A_n", "E"}


@triton.jit
def _copy_kernel(x_ptr, y_ptr, BLOCK: triton.language.constexpr):
    offs = triton.language.arange(0, BLOCK)
    triton.language.store(y_ptr + offs, triton.language.load(x_ptr + offs))


@pytest.fixture(scope="module")
def sm90_compiler() -> None:
    """Skip where this Triton cannot build for an sm_90 target (no CUDA back end or assembler); only a trivial
    kernel is tried, so that an error in the scan itself fails the test."""
    src = ASTSource(_copy_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "BLOCK": "constexpr"}, {(2,): 32})
    try:
        triton.compile(src, target=GPUTarget("cuda", 90, 32))
    except Exception as err:  # noqa: BLE001 - whatever this installation lacks
        pytest.skip(f"Triton cannot compile for sm_90 here: {type(err).__name__}: {str(err)[:200]}")


def compile_forward_scan(divisible: set[str], fixed: dict = CONSTANTS):
    """The forward scan compiled for an sm_90 target, the arguments in ``divisible`` marked divisible by 16 and those
    in ``fixed`` given as constants."""
    kernel = ts._scan_fwd_seq_kernel
    names = kernel.arg_names
    signature = {n: "constexpr" if n in fixed else POINTERS.get(n, "fp32" if n == "scale" else "i32")
                 for n in names}
    constants = {(names.index(n),): v for n, v in fixed.items()}
    attrs = {(names.index(n),): [["tt.divisibility", 16]] for n in divisible}
    return triton.compile(ASTSource(kernel, signature, constants, attrs), target=GPUTarget("cuda", 90, 32),
                          options=dict(num_warps=1))


def forward_scan_ttgir(divisible: set[str], fixed: dict = CONSTANTS) -> list[str]:
    """:func:`compile_forward_scan`'s TTGIR without source locations and the function's argument attributes."""
    ttgir = compile_forward_scan(divisible, fixed).asm["ttgir"]
    return [re.sub(r"\s*loc\(.*$", "", line) for line in ttgir.splitlines()
            if not line.startswith("#loc") and "tt.func" not in line]


def _layouts(ttgir: list[str]) -> set[str]:
    """The blocked layouts a TTGIR defines, without their names."""
    return {line.split("=", 1)[1].strip() for line in ttgir if line.startswith("#blocked")}


def test_forward_scan_layout_does_not_follow_A_alignment(sm90_compiler):
    with_a = forward_scan_ttgir(ALIGNED)
    without_a = forward_scan_ttgir(ALIGNED - {"A_ptr"})
    layouts = [line for line in with_a if line.startswith("#blocked")]
    assert layouts, "no blocked layout in the TTGIR"
    # the (states, channels) tile: one lane per channel pair, every state of a channel in one thread
    assert any("sizePerThread = [1, 1], threadsPerWarp = [1, 32]" in line for line in layouts), layouts
    assert with_a == without_a


def test_one_launch_merge_step_compiles_for_sm90(sm90_compiler):
    """The merge step of eager inference (``merge_once``) finds its scratch parts from the sizes' pointer, the int32
    rows through a pointer bitcast: Triton's interpreter does not check that the CUDA back end takes it. Specialised
    as Vim-Ti r=5 at fp16 (197 tokens, width 192)."""
    from rmeeto.ops.triton import merge as tm
    from rmeeto.ops.triton import merge_once

    kernel = merge_once._once_kernel
    names = kernel.arg_names
    fixed = dict(HAS_SIZE=True, MERGE=True, IEEE=False, SCORE=tm.SCORES["merge"], BS=128, BK=64, FEW=True, BJ=32,
                 BC=256)
    halves = {"m_ptr", "x_ptr", "no_ptr"}
    signature = {n: "constexpr" if n in fixed else ("*fp16" if n in halves else "*fp32") if n.endswith("_ptr")
                 else "fp32" if n == "eps" else "i32" for n in names}
    attrs = {(names.index(n),): [["tt.divisibility", 16]] for n in names if n.endswith("_ptr")}
    constants = {(names.index(n),): v for n, v in fixed.items()}
    compiled = triton.compile(ASTSource(kernel, signature, constants, attrs), target=GPUTarget("cuda", 90, 32),
                              options=dict(num_warps=merge_once.ONCE_CFG["num_warps"]))
    assert ".entry" in compiled.asm["ptx"] and "bar.sync" in compiled.asm["ptx"]
