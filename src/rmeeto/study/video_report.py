"""Render ``rmeeto study-video`` results (``free.json``, ``retrain.json``) as ``README.md`` with PNG plots.

A hand-written ``notes.md`` in the same folder (the comparison with the paper) is copied in under its own
heading, so the README can be regenerated without losing it.
"""
from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Optional

from .results import load_stage

KINDS_ORDER = ("none", "merge", "prune", "prune-random", "prune-norm", "merge-shuffle")


def _fmt(v, spec: str = ".2f") -> str:
    return "–" if v is None else format(v, spec)


def free_table(free: dict) -> list[str]:
    base = free["rows"][0]
    lines = ["| setting | r | ratio | GFLOPs | top-1 | vs unmerged | CPU clips/s | speed-up |",
             "|---|---|---|---|---|---|---|---|"]
    for row in free["rows"]:
        lines.append(f"| {row['label']} | {row['r']} | {row['ratio']:.3f} | {row['gflops']:.4f} | {row['top1']:.2f} | "
                     f"{row['top1'] - base['top1']:+.2f} | {row['clips_per_s']:.0f} | "
                     f"{row['clips_per_s'] / base['clips_per_s']:.2f}x |")
    return lines


def kind_of(name: str) -> str:
    """A re-training run's kind: its name without ``-seed<s>``."""
    return re.sub(r"-seed\d+$", "", name)


def runs_table(retrain: dict) -> list[str]:
    split = retrain["split"]
    lines = [f"| run | ratio | val: merged, no training | val after each epoch | {split} top-1 | wall min |",
             "|---|---|---|---|---|---|"]
    for name, s in sorted(retrain["runs"].items()):
        after = (s.get("after_merge_no_train") or {}).get("top1")
        accs = ", ".join(f"{e['top1']:.2f}" for e in s["epochs"])
        lines.append(f"| {name} | {_fmt(s.get('reduction_ratio'), '.3f')} | {_fmt(after)} | {accs} | "
                     f"{s[f'{split}_top1']:.2f} | {s['wall_minutes']:.2f} |")
    return lines


def seed_summary(retrain: dict) -> dict:
    """Per kind: the split top-1 of each seed, their mean and sd (0 for one seed), and mean wall minutes."""
    split = retrain["split"]
    kinds: dict = {}
    for name, s in sorted(retrain["runs"].items()):
        kinds.setdefault(kind_of(name), []).append(s)
    out = {}
    for kind, runs in kinds.items():
        accs = [s[f"{split}_top1"] for s in runs]
        out[kind] = {"top1": accs, "mean": statistics.mean(accs),
                     "sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                     "wall": statistics.mean(s["wall_minutes"] for s in runs)}
    return out


def seed_table(retrain: dict, free: Optional[dict]) -> list[str]:
    """Each kind over its seeds, against the training-free merge at the same ratio and the unmerged proxy."""
    summ = seed_summary(retrain)
    base = free["rows"][0]["top1"] if free else None
    lines = ["| re-trained | seeds | top-1 each | mean | sd | training-free merge | vs unmerged proxy | "
             "vs unmerged re-trained |", "|---|---|---|---|---|---|---|---|"]
    ref = summ.get("unmerged", {}).get("mean")
    for kind, k in summ.items():
        ratio = kind.split("-")[1] if kind.startswith("merge-") else None
        tf = _free_top1(free, "merge", float(ratio)) if (free and ratio) else base
        lines.append(f"| {kind} | {len(k['top1'])} | {', '.join(f'{a:.2f}' for a in k['top1'])} | {k['mean']:.2f} | "
                     f"{k['sd']:.2f} | {_fmt(tf)} | {_gap(k['mean'], base)} | {_gap(k['mean'], ref)} |")
    return lines


def _gap(v, ref) -> str:
    return "–" if ref is None else f"{v - ref:+.2f}"


def _free_top1(free: dict, mode: str, target: float) -> Optional[float]:
    rows = [r for r in free["rows"] if r["mode"] == mode and abs(r["target_ratio"] - target) < 1e-6]
    return rows[0]["top1"] if rows else None


def plot_free(free: dict, retrain: Optional[dict], path: Path) -> str:
    """Top-1 against reduction ratio for each training-free setting, with the re-trained merges (mean
    over seeds) as stars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = free["rows"][0]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for mode in KINDS_ORDER[1:]:
        rows = [r for r in free["rows"] if r["mode"] == mode]
        ax.plot([0] + [r["ratio"] for r in rows], [base["top1"]] + [r["top1"] for r in rows], "o-", label=mode)
    if retrain:
        summ = seed_summary(retrain)
        pts = [(s["reduction_ratio"], summ[kind_of(n)]["mean"]) for n, s in retrain["runs"].items()
               if n.startswith("merge-")]
        if pts:
            ax.plot(*zip(*sorted(set(pts))), "*", ms=13, color="black",
                    label=f"merge + {retrain['epochs']} ep re-training")
    ax.axhline(100 / 8, color="gray", ls=":", lw=0.8, label="chance (8 classes)")
    ax.set_xlabel("reduction ratio")
    ax.set_ylabel(f"top-1 (%), {free['split']} split")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


def plot_retrain(retrain: dict, path: Path) -> str:
    """Val top-1 after each re-training epoch (epoch 0: merged, before training), one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    colours: dict = {}
    labelled: set = set()
    for name, s in sorted(retrain["runs"].items()):
        kind = kind_of(name)
        colour = colours.setdefault(kind, f"C{len(colours)}")
        start = (s.get("after_merge_no_train") or {}).get("top1")
        xs = ([0] if start is not None else []) + [e["epoch"] for e in s["epochs"]]
        ys = ([start] if start is not None else []) + [e["top1"] for e in s["epochs"]]
        ax.plot(xs, ys, "o-", color=colour, alpha=0.8, label=None if kind in labelled else kind)
        labelled.add(kind)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("re-training epoch (0: before training)")
    ax.set_ylabel("val top-1 (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


def _header(free: Optional[dict], retrain: Optional[dict]) -> list[str]:
    env = (free or retrain)["env"]
    stages = (("free", free), ("retrain", retrain))
    lines = ["# R-MeeTo on a small video set: VideoMamba proxy on real Fashion-MNIST items in synthetic motion", "",
             "Generated by `rmeeto study-video report` (src/rmeeto/study/video.py) from the JSON files in this "
             "folder; every number below is read from them.", "",
             f"Machine: CPU only ({env['cpus']} cores, shared with other jobs; torch {env['torch']}, "
             f"{env['threads']} torch thread), {env['date']}; " +
             "; ".join(f"{name} stage at commit {d['env']['commit']}" for name, d in stages if d) + ".", ""]
    if free and free.get("data"):
        d = free["data"]
        n = d["videos_per_class"]
        lines += [f"Data: {len(d['classes'])} classes ({', '.join(d['classes'])}); train {n['train']}, val "
                  f"{n['val']}, test {n['test']} videos per class; {d['frames']} frames of {d['size']} px, "
                  f"{d['codec']}. **The motion is synthetic; the images are real**: {d['source']}. A class and "
                  "its opposite hold the same frames in reverse order, so frame order is what tells them apart.", ""]
    if free and free.get("proxy"):
        p = free["proxy"]
        kw = ", ".join(f"{k}={v}" for k, v in (p.get("model_kwargs") or {}).items())
        lines += [f"Model: `{p['model']}` with {kw} ({free['params'] / 1e3:.0f}k parameters, "
                  f"{free['rows'][0]['tokens_in']} tokens), trained from scratch for {len(p['val_top1'])} epochs "
                  f"in {p['minutes']:.1f} min (val top-1 after each epoch: "
                  f"{', '.join(f'{a:.1f}' for a in p['val_top1'])}).", ""]
    return lines


def _timing(free: Optional[dict], retrain: Optional[dict]) -> list[str]:
    lines = ["## Wall-clock minutes on this machine", "", "| run | minutes |", "|---|---|"]
    total = 0.0
    if free and free.get("proxy"):
        lines.append(f"| proxy training (`rmeeto train -c configs/motion_videomamba_proxy.yaml`, training loop) | "
                     f"{free['proxy']['minutes']:.2f} |")
        total += free["proxy"]["minutes"]
    if free:
        lines.append(f"| `free` stage (decode {free['clips']} clips, {len(free['rows'])} settings, speed) | "
                     f"{free['minutes']:.2f} |")
        total += free["minutes"]
    for name, s in sorted((retrain or {}).get("runs", {}).items()):
        lines.append(f"| re-training {name} (process start to end, with evaluations) | {s['wall_minutes']:.2f} |")
        total += s["wall_minutes"]
    return lines + [f"| **total** | **{total:.1f}** |", ""]


def run_lrs(retrain: dict) -> str:
    """The re-training lr of the runs (each run records its own; older files only the stage's)."""
    return " ".join(f"{v:g}" for v in sorted({s.get("lr", retrain["lr"]) for s in retrain["runs"].values()}))


def commands(free: Optional[dict], retrain: Optional[dict], out: Path) -> list[str]:
    """The command lines that made these results in ``out`` (the set's from its ``meta.json``)."""
    src = free or retrain
    data, ckpt = src.get("data_dir", "data/motion32"), src["checkpoint"]
    lines = ["## Commands", "", "From the repository root, with `pip install -e '.[train,video]'`:", "", "```bash"]
    d = (free or {}).get("data")
    if d:
        n = d["videos_per_class"]
        lines.append(f"rmeeto make-video-set --out {data} --per-class {n['train']} --val-per-class {n['val']} "
                     f"--test-per-class {n['test']} --frames {d['frames']} --size {d['size']} --seed {d['seed']}")
    lines.append("OMP_NUM_THREADS=1 rmeeto train -c configs/motion_videomamba_proxy.yaml")
    if free:
        lines.append(f"rmeeto study-video free --checkpoint {ckpt} --data-dir {data} --split {free['split']} "
                     f"--ratios {' '.join(f'{r:g}' for r in sorted({r['target_ratio'] for r in free['rows']}) if r)} --out {out}")
    if retrain:
        seeds = sorted({int(re.search(r"seed(\d+)$", n).group(1)) for n in retrain["runs"]})
        lines.append(f"rmeeto study-video retrain --checkpoint {ckpt} --data-dir {data} --split {retrain['split']} "
                     f"--ratios {' '.join(retrain['r'])} --epochs {retrain['epochs']} --lr {run_lrs(retrain)} "
                     f"--seeds {' '.join(map(str, seeds))} --out {out}")
    return lines + [f"rmeeto study-video report --out {out}", "```", "",
                    "A stage keeps what finished in its JSON file; "
                    "`retrain` skips runs already there, so more seeds can be added later.", ""]


def write_report(out: Path) -> Path:
    """``out/README.md`` (and its PNGs) from the stage files in ``out``."""
    free, retrain = load_stage(out, "free"), load_stage(out, "retrain")
    if not free and not retrain:
        raise SystemExit(f"error: {out} holds neither free.json nor retrain.json; run the free or retrain stage")
    lines = _header(free, retrain)
    if free:
        lines += [f"## Training-free reduction ({free['split']} split, {free['clips']} clips, one centre view)", "",
                  "Merge and prune at the same r (hence the same ratio and GFLOPs); `merge-shuffle` merges the same "
                  "way and then shuffles the token order (`order=\"shuffle\"`). CPU clips/s: fp32 forward of batch "
                  f"{free['speed_batch']}, one thread, {free.get('speed', 'median of 5 batches')}, on a CPU "
                  "shared with other jobs (rough).", "", *free_table(free), "",
                  f"![accuracy vs ratio]({plot_free(free, retrain, out / 'accuracy_vs_ratio.png')})", ""]
    if retrain:
        r = ", ".join(f"r={v} for target ratio {k}" for k, v in retrain["r"].items())
        lines += [f"## Re-training for {retrain['epochs']} epochs ({r})", "",
                  f"Each run starts from the proxy, lr {run_lrs(retrain)} (cosine, no warm-up), the proxy's "
                  f"recipe otherwise. Val top-1 is measured by `rmeeto train` after each epoch; the "
                  f"{retrain['split']} top-1 comes from the run's final checkpoint.", "", *runs_table(retrain), "",
                  *seed_table(retrain, free), "",
                  f"![re-training]({plot_retrain(retrain, out / 'retraining.png')})", ""]
    lines += _timing(free, retrain) + commands(free, retrain, out)
    notes = out / "notes.md"
    if notes.is_file():
        lines += [notes.read_text().rstrip(), ""]
    path = out / "README.md"
    path.write_text("\n".join(lines))
    return path
