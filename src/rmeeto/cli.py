"""The ``rmeeto`` command line: info, vis, bench, demo, and (with the training extras) train/eval/bench-data."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Optional, Sequence

from rmeeto.checkpoint import CheckpointError
from rmeeto.cli_checks import (EXTRAS, UsageError, build_model, check_at_least, check_out_file, check_patch,
                               check_r_ratio, one_line, open_clip, open_image, pil_extensions)
from rmeeto.flops import gflops
from rmeeto.hub import WeightsNotFoundError
from rmeeto.kv import parse_kwargs
from rmeeto.merge import MODES, ORDERS
from rmeeto.models import list_models
from rmeeto.patch import patch, patch_settings, reduction_ratio, schedule_of
from rmeeto.vis import annotated_merge_map

DESCRIPTION = ("Faster Vision Mamba by order-preserving token merging, rebuilt in minutes (R-MeeTo). "
               "train, eval, bench-data, demo and study need the training extras: pip install 'rmeeto[train]'.")
DEFAULT_VIS_RATIO = 0.31  # vis without --r/--ratio: the paper's main setting


def parse_kv(items: Optional[Sequence[str]]) -> dict[str, Any]:
    """``["depth=2", "embed_dim=32", "x=1.5", "f=true"]`` -> typed dict (:func:`rmeeto.kv.parse_kwargs`);
    a bad item is a one-line usage error."""
    try:
        return parse_kwargs(items)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _patch_kwargs(args: argparse.Namespace) -> dict:
    return {"r": args.r, "ratio": args.ratio, "mode": getattr(args, "mode", MODES[0]),
            "order": getattr(args, "order", ORDERS[0])}


def cmd_info(args: argparse.Namespace) -> int:
    check_r_ratio(args.r, args.ratio)
    kwargs = parse_kv(args.model_kwargs)
    names = [args.model] if args.model else list_models()
    models = [build_model(name, kwargs) for name in names]
    patched = args.r is not None or args.ratio is not None
    if patched:
        for name, m in zip(names, models):
            check_patch(m, name, **_patch_kwargs(args))
    print(f"{'model':34s} {'params':>10s} {'tokens':>7s} {'GFLOPs':>8s}" +
          (f" {'r':>4s} {'ratio':>6s} {'GFLOPs(r)':>10s}" if patched else ""))
    for name, m in zip(names, models):
        n = sum(p.numel() for p in m.parameters())
        line = f"{name:34s} {n / 1e6:9.2f}M {m.num_tokens:7d} {gflops(m):8.3f}"
        if patched:
            patch(m, **_patch_kwargs(args))
            r = max(schedule_of(m))  # the r that --ratio picked, or --r (capped where tokens run out)
            line += f" {r:4d} {reduction_ratio(m):6.3f} {gflops(m):10.3f}"
        print(line)
    if not args.model:
        print("\naliases: the official long names, e.g. "
              "vim_tiny_patch16_224_bimambav2_final_pool_mean_abs_pos_embed_with_midclstok_div2")
    return 0


def cmd_vis(args: argparse.Namespace) -> int:
    check_r_ratio(args.r, args.ratio)
    check_at_least(args.scale, "--scale", 1)
    check_out_file(args.out, "--out", pil_extensions())
    model = build_model(args.model, parse_kv(args.model_kwargs), pretrained=args.pretrained,
                        trust_checkpoint=args.trust_checkpoint)
    image = open_clip(args.image, model) if getattr(model, "num_frames", 0) else open_image(args.image)
    settings = _vis_settings(args, patch_settings(model))
    check_patch(model, args.model, **settings)
    patch(model, **settings)
    img = annotated_merge_map(model, image, scale=args.scale, name=args.model)
    img.save(args.out)
    print(f"wrote {args.out} (ratio {reduction_ratio(model):.3f})")
    return 0


def _vis_settings(args: argparse.Namespace, loaded: Optional[dict]) -> dict:
    """--r/--ratio as given; else the checkpoint's own patch; else the paper's ratio 0.31 (said so)."""
    if args.r is not None or args.ratio is not None:
        return _patch_kwargs(args)
    if loaded:
        print(f"no --r/--ratio given: using the checkpoint's patch (r={loaded.get('r')}, "
              f"ratio={loaded.get('ratio')}, mode {loaded.get('mode')})", file=sys.stderr)
        return loaded
    print(f"no --r/--ratio given: using --ratio {DEFAULT_VIS_RATIO} (the paper's main setting); "
          "pass --r or --ratio to choose", file=sys.stderr)
    return {**_patch_kwargs(args), "ratio": DEFAULT_VIS_RATIO}


def add_patch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--r", type=int, default=None, help="tokens merged at each merge block")
    p.add_argument("--ratio", type=float, default=None, help="target reduction ratio instead of r, e.g. 0.31")
    p.add_argument("--mode", default=MODES[0], choices=list(MODES),
                   help="merge tokens, or drop them (prune: the matched ones; -random; -norm: lowest norm)")
    p.add_argument("--order", default=ORDERS[0], choices=list(ORDERS),
                   help="keep the token order (R-MeeTo) or shuffle it (the paper's ablation)")


def add_trust_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="fully unpickle a checkpoint that holds more than tensors; this runs any code in "
                        "the file, so only for files from a source you trust")


def _missing(name: str, error: ImportError):
    def fail(_args):
        missing = error.name or "an optional package"
        raise UsageError(f"`rmeeto {name}` needs {missing}: pip install 'rmeeto[{EXTRAS.get(missing, 'train')}]'")
    return fail


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and the --help to read) instead of the usage text."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rmeeto", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does (INFO level)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="list models with parameters, tokens and GFLOPs")
    p.add_argument("--model", default=None, help="one registered model (default: all of them)")
    p.add_argument("--model-kwargs", nargs="*", default=[], metavar="KEY=VALUE",
                   help="create_model overrides, e.g. depth=4 embed_dim=96 img_size=112")
    p.add_argument("--r", type=int, default=None, help="also show the merged figures for this r")
    p.add_argument("--ratio", type=float, default=None, help="also show the merged figures for this reduction ratio")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("vis", help="draw which patches merged into which token")
    p.add_argument("image", help="a JPEG or PNG to draw the merge of (a video file for a video model)")
    p.add_argument("--model", default="vim_tiny_patch16_224", help="registered model name")
    p.add_argument("--pretrained", default=None, metavar="PATH",
                   help="weights: a local checkpoint or hf-hub:ORG/REPO[:FILE] on the Hugging Face Hub "
                        "(without one the weights are random)")
    add_trust_arg(p)
    p.add_argument("--model-kwargs", nargs="*", default=[], metavar="KEY=VALUE",
                   help="create_model overrides, e.g. img_size=112")
    add_patch_args(p)
    p.add_argument("--scale", type=int, default=2, help="picture pixels per input pixel")
    p.add_argument("--out", default="merge_map.png", help="where to write the picture (PNG)")
    p.set_defaults(func=cmd_vis)

    # imported here, not at the top: most need the training extras (keeps timm and torchvision out of a bare install)
    commands = {"rmeeto.bench": ["bench"], "rmeeto.study.demo": ["demo"], "rmeeto.study.stages": ["study"],
                "rmeeto.study.video": ["study-video"],
                "rmeeto.train.commands": ["train", "eval", "bench-data"],
                "rmeeto.data.synthetic_video": ["make-video-set"]}
    for mod, names in commands.items():
        try:
            module = __import__(mod, fromlist=["register"])
        except ImportError as e:  # an optional dependency is missing: say which, when used
            for name in names:
                p = sub.add_parser(name, help=f"(unavailable: {e.name or e})")
                p.set_defaults(func=_missing(name, e))
            continue
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; bad input ends in one ``error:`` line on stderr and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (UsageError, CheckpointError, WeightsNotFoundError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr, flush=True)
        return 2
    except SystemExit as e:
        if not isinstance(e.code, str):
            raise
        msg = e.code if e.code.startswith("error") else f"error: {e.code}"
        print(msg, file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
