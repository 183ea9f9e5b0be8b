"""Measure the GPU-speed targets of the parallel-scan work (filed 2026-11-30) in one process; print measured vs target.

Timed by :func:`rmeeto.bench.measure`, every step synchronised (``rmeeto bench``'s default timing): batch 128
random images, weights in fp16 with fp16 autocast (bf16 for training), warm-up, median of timed iterations.
The settings whose speed-ups are targets are timed as ``rmeeto bench --rounds 5`` times them: in turn, five
rounds each, so that a drift of the machine's speed reaches the merged and the unmerged model alike. Rows replay
the forward (the training step: forward, loss and backward) as a CUDA graph, as the targets are set (``--no-graph``
for eager), except the rows named eager: the eager Vim-Ti rows, whose target is eager, and eager Vim-S and training
rows reported beside the graphed ones. Also times the reference PyTorch merge next to the fused Triton merge, so
the merge's own cost shows. Writes ``--json``. The scan against mamba_ssm is ``scripts/bench_vs_mamba_ssm.py``'s;
compiled against eager, ``scripts/compare_compile_options.py``'s.

    PYTHONPATH=src python scripts/bench_targets.py [--json out.json] [--quick]
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def run(model_name: str, setting: dict, *, merge: str = "auto", backend=None, train: bool = False,
        graph: bool = True, warmup: int = 20, iters: int = 30, batch: int = 128, split="auto") -> dict:
    import rmeeto
    from rmeeto.bench import measure
    from rmeeto.ops import settings

    m = rmeeto.create_model(model_name)
    m.backend = backend
    m.merge_impl = merge
    if setting:
        rmeeto.patch(m, **setting)
    # "auto" (the default: by shape), False (one launch) or True (two streams) for the captured forward scan
    with settings.using(scan_split={"auto": "auto", False: "off", True: "on"}[split]):
        res = measure(m, batch, "cuda", "bf16" if train else "fp16", train, warmup, iters, graph)
    res.update(model=model_name, setting=setting, merge=merge, backend=backend or "auto", train=train,
               graph=graph, scan_split=split)
    scan = {False: " one-launch-scan", True: " two-stream-scan"}.get(split, "")
    tag = f"{model_name:22s} {str(setting):18s} merge={merge:5s} {'train' if train else 'infer'}" \
          f"{' graph' if res['graph'] else ''}{' ' + backend if backend else ''}{scan}"
    print(f"{tag:70s} {res['im_per_s']:9.1f} im/s  {res['ms_per_batch']:7.2f} ms  "
          f"peak {res['peak_mem_gb']:.2f} GB", flush=True)
    del m
    torch.cuda.empty_cache()
    return res


def interleaved(model_name: str, settings: list, *, train: bool = False, graph: bool = True, warmup: int = 20,
                iters: int = 30, rounds: int = 5) -> list[dict]:
    """``settings`` (the unmerged one first) timed in turn, ``rounds`` times over, as ``rmeeto bench --rounds``."""
    from rmeeto.bench import BenchConfig, run_bench

    print(f"# {model_name} {'train' if train else 'infer'}{' graph' if graph else ' eager'}, "
          f"{rounds} interleaved rounds", flush=True)
    cfg = BenchConfig(model=model_name, settings=[("r", 0)] + settings, device="cuda",
                      dtype="bf16" if train else "fp16", train=train, cuda_graph=graph, warmup=warmup,
                      iters=iters, rounds=rounds)
    rows = run_bench(cfg)
    torch.cuda.empty_cache()
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = ap.parse_args(argv)
    it = dict(warmup=5, iters=5) if args.quick else {}
    rounds = 1 if args.quick else 5
    g = not args.no_graph
    S, T, B = "vim_small_patch16_224", "vim_tiny_patch16_224", "vim_base_patch16_224"
    rows = {}
    rows["s0"], rows["s11"], rows["s054"] = interleaved(S, [("r", 11), ("ratio", 0.54)], graph=g, rounds=rounds, **it)
    rows["s11_torchmerge"] = run(S, dict(r=11), merge="torch", graph=g, **it)
    rows["t0"], rows["t5"] = interleaved(T, [("r", 5)], graph=g, rounds=rounds, **it)
    rows["t5_torchmerge"] = run(T, dict(r=5), merge="torch", graph=g, **it)
    rows["t0_eager"], rows["t5_eager"] = interleaved(T, [("r", 5)], graph=False, rounds=rounds, **it)
    rows["b0"] = run(B, {}, graph=g, **it)
    rows["b11"] = run(B, dict(r=11), graph=g, **it)
    rows["s0_eager"] = run(S, {}, graph=False, **it)
    rows["s11_eager"] = run(S, dict(r=11), graph=False, **it)
    tit = dict(warmup=3, iters=5) if args.quick else dict(warmup=5, iters=15)
    rows["s0_train"] = run(S, {}, train=True, graph=False, **tit)
    rows["s11_train"] = run(S, dict(r=11), train=True, graph=False, **tit)
    rows["s0_train_graph"], rows["s11_train_graph"] = interleaved(S, [("r", 11)], train=True, graph=g,
                                                                  rounds=rounds, **tit)
    rows["s0_torch"] = run(S, {}, backend="torch", graph=False, warmup=2, iters=3)
    # captured inference picks one launch or two streams by shape (SPLIT="auto": one launch for Vim-S at batch 128);
    # RMEETO_SCAN_SPLIT=1 forces the two-stream scan, timed here beside it
    rows["s0_twostream"] = run(S, {}, graph=g, split=True, **it)
    rows["s11_twostream"] = run(S, dict(r=11), graph=g, split=True, **it)

    def sp(a, b):
        return rows[a]["im_per_s"] / rows[b]["im_per_s"]

    merge_ms = (rows["s11_torchmerge"]["ms_per_batch"] - rows["s11"]["ms_per_batch"]) / 11
    table = [
        ("Vim-S unmerged inference (im/s)", rows["s0"]["im_per_s"], ">= 10000", rows["s0"]["im_per_s"] >= 10000),
        ("Vim-S r=11 speedup", sp("s11", "s0"), ">= 1.38x (ideal 1.44x)", sp("s11", "s0") >= 1.38),
        ("Vim-S ratio 0.54 speedup", sp("s054", "s0"), ">= 1.95x (ideal 2.17x)", sp("s054", "s0") >= 1.95),
        ("Vim-Ti r=5 speedup, eager", sp("t5_eager", "t0_eager"), ">= 1.0x", sp("t5_eager", "t0_eager") >= 1.0),
        ("Vim-Ti r=5 speedup", sp("t5", "t0"), ">= 1.12x", sp("t5", "t0") >= 1.12),
        ("Vim-S r=11 train step (im/s)", rows["s11_train_graph"]["im_per_s"], ">= 1600",
         rows["s11_train_graph"]["im_per_s"] >= 1600),
        ("Vim-S r=11 train peak memory (GB)", rows["s11_train_graph"]["peak_mem_gb"], "<= 4",
         rows["s11_train_graph"]["peak_mem_gb"] <= 4),
        ("Vim-S r=11 train step, eager (im/s)", rows["s11_train"]["im_per_s"], "report", None),
        ("Vim-S r=11 train peak memory, eager (GB)", rows["s11_train"]["peak_mem_gb"], "report", None),
        ("Vim-S r=11 train speedup, as timed", sp("s11_train_graph", "s0_train_graph"), "report", None),
        ("Vim-B r=11 speedup", sp("b11", "b0"), "report", None),
        ("fastest vs pure-PyTorch path (Vim-S)", sp("s0", "s0_torch"), "report", None),
        ("Vim-S r=11 speedup, PyTorch merge", sp("s11_torchmerge", "s0"), "report", None),
        ("Vim-Ti r=5 speedup, PyTorch merge", sp("t5_torchmerge", "t0"), "report", None),
        ("Vim-S r=11 eager speedup", sp("s11_eager", "s0_eager"), "report", None),
        ("fused merge saves per merge block (ms)", merge_ms, "report", None),
        ("default vs two-stream scan, Vim-S unmerged", sp("s0", "s0_twostream"), "report", None),
        ("default vs two-stream scan, Vim-S r=11", sp("s11", "s11_twostream"), "report", None),
        ("Vim-S r=11 speedup, both two-stream", sp("s11_twostream", "s0_twostream"), "report", None),
    ]
    dev = torch.cuda.get_device_name()
    import triton

    meta = {"device": dev, "torch": torch.__version__, "triton": triton.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "graph": g}
    print(f"\n# targets ({dev}, torch {torch.__version__}, triton {triton.__version__}, {meta['date']})")
    for name, value, target, ok in table:
        status = "report" if ok is None else ("MET" if ok else "missed")
        print(f"{name:40s} {value:10.3f}  target {target:24s} {status}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows, "targets": [list(t) for t in table]}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
