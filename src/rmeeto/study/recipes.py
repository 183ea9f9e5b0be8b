"""The re-training recipes ``rmeeto study`` compares, and how a recipe names its stage files and run folders."""
from __future__ import annotations

from pathlib import Path

from .results import load_stage

RETRAIN_RATIO = 0.31  # the ratio of the recipe, retrain and order stages (the paper's main setting)
HOLDOUT = 10000  # train images the recipe stage scores on (the rest, 50k, are trained on)

# Re-training recipes the ``recipe`` stage compares: flags added after the base recipe of ``runs.train_command``
# (lr ``--lr`` per 512 images, batch ``--batch-size``, no warm-up, light augmentation, smoothing 0.1).
RECIPES: dict[str, list[str]] = {
    "base": [],
    "lr3e-5": ["--lr", "3e-5"],
    "lr3e-4": ["--lr", "3e-4"],
    "lr1e-3": ["--lr", "1e-3"],
    "lr3e-4-warmup": ["--lr", "3e-4", "--warmup-epochs", "0.5"],
    "lr3e-4-noreg": ["--lr", "3e-4", "--reprob", "0", "--drop-path", "0"],
    "distill": ["--distill"],
    "lr3e-4-distill": ["--lr", "3e-4", "--distill"],
    "lr1e-3-distill": ["--lr", "1e-3", "--distill"],
    "lr3e-4-distill-a2": ["--lr", "3e-4", "--distill", "--distill-alpha", "2.0"],
    "bs128": ["--batch-size", "128"],
    "bs128-lr3e-4": ["--batch-size", "128", "--lr", "3e-4"],
}
# Runs of the recipe stage that are not candidates: the unmerged model re-trained with the base recipe
# (does re-training alone move the reference?) and a 10-epoch merged run (how far can more training go?).
RECIPE_CONTROLS: dict[str, tuple[bool, list[str]]] = {  # name: (merged?, flags)
    "control-unmerged-base": (False, ["--epochs", "3"]),
    "control-merge-lr3e-4-10ep": (True, ["--lr", "3e-4", "--epochs", "10"]),
}


def choose_recipe(out: Path) -> str:
    """The candidate of ``recipe.json`` with the best held-out top-1 after its last epoch (the first
    listed in ``RECIPES`` on a tie)."""
    runs = load_stage(out, "recipe")
    scored = [(runs[n]["epochs"][-1]["top1"], -i, n) for i, n in enumerate(RECIPES) if runs and n in runs]
    if not scored:
        raise SystemExit(f"error: --recipe auto needs {Path(out) / 'recipe.json'} with finished runs; "
                         "run the recipe stage first (rmeeto study recipe ...)")
    return max(scored)[2]


def resolve_recipe(recipe: str, out: Path) -> tuple[str, list[str]]:
    """(name, flags) of ``recipe``, resolving ``auto`` to the recipe stage's best."""
    name = choose_recipe(out) if recipe == "auto" else recipe
    if name not in RECIPES:
        raise SystemExit(f"error: unknown recipe {name!r}; choose from {', '.join([*RECIPES, 'auto'])}")
    print(f"re-training recipe: {name} {RECIPES[name]}", flush=True)
    return name, RECIPES[name]


def stage_file(stage: str, recipe: str) -> str:
    """``<stage>`` for the base recipe, else ``<stage>_<recipe>``."""
    return stage if recipe == "base" else f"{stage}_{recipe}"


def runs_dir(out: Path, recipe: str) -> Path:
    """Where a recipe's runs keep their logs: ``runs/<name>`` for the base recipe, else ``runs/<recipe>/<name>``."""
    return out / "runs" if recipe == "base" else out / "runs" / recipe


def cost(flags: list[str]) -> float:
    """Rough relative length of a run: epochs (the last --epochs wins, as in argparse), x1.3 for the
    teacher's forward, x1.3 for a smaller batch."""
    epochs = 3.0
    for flag, value in zip(flags, flags[1:]):
        if flag == "--epochs":
            epochs = float(value)
    return epochs * (1.3 if "--distill" in flags else 1.0) * (1.3 if "--batch-size" in flags else 1.0)


def recipe_files(out: Path, stage: str) -> list[tuple[str, str]]:
    """(recipe, stage file stem) of every ``<stage>.json`` (the base recipe) and ``<stage>_<recipe>.json``
    in ``out`` whose suffix names a recipe of ``RECIPES``, base first (so ``retrain_h100_x.json`` is not
    read as a ``retrain`` recipe called ``h100_x``)."""
    found = [("base", stage)] if (out / f"{stage}.json").is_file() else []
    for p in sorted(out.glob(f"{stage}_*.json")):
        recipe = p.stem[len(stage) + 1:]
        if recipe in RECIPES:
            found.append((recipe, p.stem))
    return found
