"""The ``rmeeto`` command line: info, vis, bench, demo, and (with the training extras) train/eval/bench-data."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Optional, Sequence


def parse_kv(items: Optional[Sequence[str]]) -> dict[str, Any]:
    """``["depth=2", "embed_dim=32", "x=1.5", "f=true"]`` -> typed dict."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"error: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        low = v.lower()
        if low in ("true", "false"):
            out[k] = low == "true"
        elif low in ("none", "null"):
            out[k] = None
        else:
            for cast in (int, float):
                try:
                    out[k] = cast(v)
                    break
                except ValueError:
                    continue
            else:
                out[k] = v
    return out


def cmd_info(args: argparse.Namespace) -> int:
    import rmeeto

    names = [args.model] if args.model else rmeeto.list_models()
    print(f"{'model':34s} {'params':>10s} {'tokens':>7s} {'GFLOPs':>8s}" +
          (f" {'r':>4s} {'ratio':>6s} {'GFLOPs(r)':>10s}" if args.r is not None else ""))
    for name in names:
        m = rmeeto.create_model(name, **parse_kv(args.model_kwargs))
        n = sum(p.numel() for p in m.parameters())
        line = f"{name:34s} {n / 1e6:9.2f}M {m.num_tokens:7d} {rmeeto.gflops(m):8.3f}"
        if args.r is not None:
            rmeeto.patch(m, r=args.r)
            line += f" {args.r:4d} {rmeeto.reduction_ratio(m):6.3f} {rmeeto.gflops(m):10.3f}"
        print(line)
    if not args.model:
        print("\naliases: the official long names, e.g. "
              "vim_tiny_patch16_224_bimambav2_final_pool_mean_abs_pos_embed_with_midclstok_div2")
    return 0


def cmd_vis(args: argparse.Namespace) -> int:
    from PIL import Image

    import rmeeto
    from rmeeto.vis import merge_map

    model = rmeeto.create_model(args.model, pretrained=args.pretrained, trust_checkpoint=args.trust_checkpoint,
                                **parse_kv(args.model_kwargs))
    if args.r is not None or args.ratio is not None or rmeeto.patch_settings(model) is None:
        rmeeto.patch(model, r=args.r if args.ratio is None else None, ratio=args.ratio, mode=args.mode,
                     order=args.order)
    img = merge_map(model, Image.open(args.image), scale=args.scale)
    img.save(args.out)
    print(f"wrote {args.out} (ratio {rmeeto.reduction_ratio(model):.3f})")
    return 0


def add_patch_args(p: argparse.ArgumentParser, multi: bool = False) -> None:
    p.add_argument("--r", type=int, default=None, help="tokens merged at each merge block")
    p.add_argument("--ratio", type=float, default=None, help="target reduction ratio instead of r")
    p.add_argument("--mode", default="merge", choices=["merge", "prune", "prune-random", "prune-norm"])
    p.add_argument("--order", default="keep", choices=["keep", "shuffle"])


def add_trust_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="fully unpickle a checkpoint that holds more than tensors; this runs any code in "
                        "the file, so only for files from a source you trust")


def _missing(name: str, error: ImportError):
    def fail(_args):
        raise SystemExit(f"error: `rmeeto {name}` needs {error.name or 'an optional package'}: "
                         f"pip install 'rmeeto[train]' ({error})")
    return fail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rmeeto", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="list models with parameters, tokens and GFLOPs")
    p.add_argument("--model", default=None)
    p.add_argument("--model-kwargs", nargs="*", default=[])
    p.add_argument("--r", type=int, default=None, help="also show the patched figures for this r")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("vis", help="draw which patches merged into which token")
    p.add_argument("image")
    p.add_argument("--model", default="vim_tiny_patch16_224")
    p.add_argument("--pretrained", default=None, metavar="PATH",
                   help="weights: a local checkpoint or hf-hub:ORG/REPO[:FILE] on the Hugging Face Hub")
    add_trust_arg(p)
    p.add_argument("--model-kwargs", nargs="*", default=[])
    add_patch_args(p)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--out", default="merge_map.png")
    p.set_defaults(func=cmd_vis)

    commands = {"rmeeto.bench": ["bench"], "rmeeto.demo": ["demo"], "rmeeto.study": ["study"],
                "rmeeto.study_video": ["study-video"],
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
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from .checkpoint import CheckpointError
    from .hub import WeightsNotFoundError

    try:
        return int(args.func(args) or 0)
    except (CheckpointError, WeightsNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
