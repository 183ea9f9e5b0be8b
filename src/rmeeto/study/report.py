"""Render ``rmeeto study`` results (``*.json`` in a folder) as ``README.md`` with PNG plots."""
from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Optional

from .recipes import RECIPE_CONTROLS, RECIPES, choose_recipe, recipe_files
from .results import load_stage


def _fmt(v, spec=".2f"):
    return "–" if v is None else format(v, spec)


def _plots(out: Path, free, vit, retrain, recipe: str = "base") -> list[str]:
    """The PNGs the stage files allow; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    made = []
    if free:
        made.append(_plot_training_free(out, free, vit))
        if any(r["im_per_s"] for r in free["rows"]):
            made.append(_plot_speed(out, free, retrain))
    if retrain:
        made.append(_plot_retraining(out, free, retrain, recipe))
    return made


def _plot_training_free(out: Path, free: dict, vit: Optional[dict]) -> str:
    import matplotlib.pyplot as plt

    rows = free["rows"]
    base = rows[0]["top1"]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for mode in ("merge", "prune", "prune-random", "prune-norm", "merge-shuffle"):
        rs = [r for r in rows if r["mode"] == mode]
        ax.plot([0] + [r["ratio"] for r in rs], [base] + [r["top1"] for r in rs], "o-", label=f"Vim {mode}")
    if vit:
        v0 = [r for r in vit["rows"] if r["mode"] == "none"][0]["top1"]
        for mode, style in (("merge", "s--"), ("prune", "^--")):
            rs = [r for r in vit["rows"] if r["mode"] == mode]
            ax.plot([0] + [r["ratio"] for r in rs], [v0] + [r["top1"] for r in rs], style, label=f"ViT {mode}")
    return _finish(fig, ax, "reduction ratio", "top-1 (%), no re-training", out / "training_free.png", 6)


def _plot_speed(out: Path, free: dict, retrain: Optional[dict]) -> str:
    import matplotlib.pyplot as plt

    pts = [r for r in free["rows"] if r["im_per_s"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for mode in ("none", "merge", "prune"):
        rs = [r for r in pts if r["mode"] == mode]
        ax.plot([r["im_per_s"] for r in rs], [r["top1"] for r in rs], "o", label=mode)
    sp = [r for r in pts if r["mode"] == "merge" and abs(r["target_ratio"] - 0.31) < 1e-6]
    for name, s in (retrain or {}).items():
        if sp and name.startswith("merge-") and "distill" not in name and name.endswith("3ep"):
            ax.plot(sp[0]["im_per_s"], s["epochs"][-1]["top1"], "*", ms=12, label="merge 0.31 + 3 ep")
    return _finish(fig, ax, "images / s (batch 128, fp16)", "top-1 (%)", out / "accuracy_vs_speed.png")


def _plot_retraining(out: Path, free: Optional[dict], retrain: dict, recipe: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    longest: dict = {}  # each kind of run (mode, distillation) by its longest budget
    for name, s in retrain.items():
        if _seedless(name) != name or "-ratio" in name:  # seed repeats and other ratios: tables only
            continue
        kind = name.rsplit("-", 1)[0]
        if kind not in longest or len(s["epochs"]) > len(longest[kind]["epochs"]):
            longest[kind] = s
    for kind, s in sorted(longest.items()):
        ax.plot([e["epoch"] for e in s["epochs"]], [e["top1"] for e in s["epochs"]], "o-",
                label=f"{kind} ({len(s['epochs'])} ep)")
    if free:
        ax.axhline(free["rows"][0]["top1"], color="gray", ls=":", label="unmerged")
        ax.axhline(free["rows"][0]["top1"] - 0.3, color="red", ls=":", lw=0.8,
                   label="unmerged - 0.3 (retired target)")
    ax.set_title(f"re-training at ratio 0.31, recipe {recipe}", fontsize=9)
    return _finish(fig, ax, "re-training epoch (longest run of each kind)", "top-1 (%)", out / "retraining.png")


def _finish(fig, ax, xlabel: str, ylabel: str, path: Path, legend_size: int = 7) -> str:
    """Label, lay out and save a plot; returns its file name."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=legend_size)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path.name


def _recipe_flags(flags: list[str]) -> list[str]:
    """A run's flags less those every recipe-stage run shares (--r, --holdout, --initial-eval)."""
    out, skip = [], False
    for f in flags:
        if skip:
            skip = False
        elif f in ("--r", "--holdout"):
            skip = True
        elif f != "--initial-eval":
            out.append(f)
    return out


def _recipe_table(runs: dict, chosen: str) -> list[str]:
    """The recipe stage's runs: held-out top-1 before and after merging, then after each epoch."""
    lines = ["| run | flags | before merge | merged, no training | after each epoch | final | wall min |",
             "|---|---|---|---|---|---|---|"]
    listed = [*RECIPES, *RECIPE_CONTROLS]
    for name, s in sorted(runs.items(), key=lambda kv: listed.index(kv[0]) if kv[0] in listed else len(listed)):
        accs = ", ".join(f"{e['top1']:.2f}" for e in s["epochs"])
        before, after = (s.get(k) or {} for k in ("before_merge", "after_merge_no_train"))
        flags = " ".join(_recipe_flags(s.get("flags", [])))
        mark = " **(chosen)**" if name == chosen else ""
        lines.append(f"| {name}{mark} | `{flags}` | {_fmt(before.get('top1'))} | {_fmt(after.get('top1'))} | "
                     f"{accs} | {s['epochs'][-1]['top1']:.2f} | {s['wall_minutes']:.2f} |")
    return lines


def _runs_table(runs: dict, base) -> list[str]:
    lines = ["| run | top-1 after each epoch | final vs unmerged | wall minutes (incl. start-up and evals) |",
             "|---|---|---|---|"]
    for name, s in sorted(runs.items()):
        accs = ", ".join(f"{e['top1']:.2f}" for e in s["epochs"])
        gap = "–" if base is None else f"{s['epochs'][-1]['top1'] - base:+.2f}"
        lines.append(f"| {name} | {accs} | {gap} | {s['wall_minutes']:.2f} |")
    return lines


def _seedless(name: str) -> str:
    """A run's name without the ``-seed<s>`` that ``study retrain --seeds`` adds to repeats."""
    return re.sub(r"-seed\d+$", "", name)


def _seed_spread(runs: dict, base) -> list[str]:
    """Mean and sample standard deviation of the final top-1 of runs that differ only in their seed
    (``name``, ``name-seed1``, ...); empty when no run was repeated."""
    groups: dict[str, list[float]] = {}
    for name, s in runs.items():
        groups.setdefault(_seedless(name), []).append(s["epochs"][-1]["top1"])
    rows = [(n, v) for n, v in sorted(groups.items()) if len(v) > 1]
    if not rows:
        return []
    lines = ["Runs repeated with other seeds (`--seeds`): final top-1 over the seeds.", "",
             "| run | seeds | final top-1 each | mean | sd | mean vs unmerged |", "|---|---|---|---|---|---|"]
    for name, v in rows:
        gap = "–" if base is None else f"{statistics.mean(v) - base:+.2f}"
        lines.append(f"| {name} | {len(v)} | {', '.join(f'{x:.2f}' for x in v)} | {statistics.mean(v):.2f} | "
                     f"{statistics.stdev(v):.2f} | {gap} |")
    return lines + [""]


def write_report(out: Path) -> None:
    """``out/README.md`` (and its PNGs) from the stage files in ``out``."""
    if not any(Path(out).glob("*.json")):
        raise SystemExit(f"error: {out} holds no study results (free.json, retrain.json, ...); run a stage "
                         "first, or pass --out with the folder that holds them")
    free, vit, recipe = (load_stage(out, n) for n in ("free", "vit", "recipe"))
    retrains = [(rec, load_stage(out, stem)) for rec, stem in recipe_files(out, "retrain")]
    orders = [(rec, load_stage(out, stem)) for rec, stem in recipe_files(out, "order")]
    h100s = [(rec, load_stage(out, stem)) for rec, stem in recipe_files(out, "retrain_h100")]
    lines = ["# R-MeeTo on the Fashion-MNIST proxy", "",
             "Generated by `rmeeto study` (src/rmeeto/study/) from the JSON files in this folder; every number "
             "below is read from them. Model: the proxy Vim of `configs/fmnist_proxy_vim.yaml` (197 tokens).", ""]
    lines += _free_section(free) + _vit_section(vit) + (_recipe_section(out, recipe) if recipe else [])
    base = free["rows"][0]["top1"] if free else None
    for rec, runs in retrains:
        lines += [f"## Re-training at ratio 0.31, recipe `{rec}` (`{RECIPES.get(rec, '?')}`)", ""]
        lines += _runs_table(runs, base) + [""] + _seed_spread(runs, base)
    for rec, runs in h100s:
        what = "The re-training runs" if len(runs) > 1 else "The 3-epoch re-training"
        lines += [f"## {what} timed on one H100, one run at a time, recipe `{rec}`", ""]
        lines += _runs_table(runs, base) + [""] + _seed_spread(runs, base)
    for rec, runs in orders:
        lines += _order_section(rec, runs)
    # the plots show the last recipe's runs (the chosen one once it has been run, else the base recipe)
    last = retrains[-1] if retrains else ("base", None)
    for png in _plots(out, free, vit, last[1], last[0]):
        lines += [f"![{png}]({png})", ""]
    analysis = out / "analysis.md"
    if analysis.is_file():
        lines += [analysis.read_text()]
    (out / "README.md").write_text("\n".join(lines))


def _free_section(free: Optional[dict]) -> list[str]:
    if not free:
        return []
    lines = [f"Environment: {free.get('env', {})}", "", "## Training-free reduction", "",
             "| setting | r | ratio | GFLOPs | top-1 | drop | im/s (b128 fp16) |", "|---|---|---|---|---|---|---|"]
    base = free["rows"][0]["top1"]
    for r in free["rows"]:
        lines.append(f"| {r['label']} | {r['r']} | {r['ratio']:.3f} | {r['gflops']:.3f} | {r['top1']:.2f} | "
                     f"{r['top1'] - base:+.2f} | {_fmt(r['im_per_s'], '.0f')} |")
    return lines + [""]


def _vit_section(vit: Optional[dict]) -> list[str]:
    if not vit:
        return []
    lines = ["## Transformer comparison (DeiT-Ti-shaped ViT, ToMe-style, no re-training)", "",
             f"Trained {vit['epochs']} epochs in {vit['train_minutes']:.1f} min"
             + (f" by `rmeeto train -c configs/{vit['recipe']}`, the proxy's recipe." if vit.get("recipe")
                else " by the study's own loop (before commit c1700ce)."), "",
             "| mode | r per block | ratio | top-1 |", "|---|---|---|---|"]
    lines += [f"| {r['mode']} | {r['r']} | {r['ratio']:.3f} | {r['top1']:.2f} |" for r in vit["rows"]]
    return lines + [""]


def _recipe_section(out: Path, recipe: dict) -> list[str]:
    lines = ["## Choosing the re-training recipe (on held-out train images, not the test set)", "",
             "Merged at ratio 0.31 and re-trained 3 epochs on the rest of the train split; top-1 is on the "
             "held-out images (which the proxy saw in its own training, so only the ranking means "
             f"anything). Candidates: {', '.join(RECIPES)}; the `control-` runs are not candidates.", ""]
    return lines + _recipe_table(recipe, choose_recipe(out)) + [""]


def _order_section(rec: str, runs: dict) -> list[str]:
    lines = [f"## Token order ablation (merge, ratio 0.31, 3 epochs, recipe `{rec}`)", "",
             "| order | top-1 after each epoch |", "|---|---|"]
    for name, s in sorted(runs.items()):
        accs = ", ".join(f"{e['top1']:.2f}" for e in s["epochs"])
        lines.append(f"| {name} | {accs} |")
    return lines + [""]
