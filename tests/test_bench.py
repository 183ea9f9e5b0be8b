"""rmeeto.bench as a library: typed settings in, rows out (no command line involved)."""
import pytest

from conftest_data import TINY_KW  # also puts src/ on sys.path
from rmeeto.bench import BenchConfig, check_bench, run_bench
from rmeeto.cli_checks import UsageError


def _cfg(**kw):
    base = dict(model="vim_tiny_patch16_224", model_kwargs=TINY_KW, settings=[("r", 0), ("r", 2)],
                device="cpu", dtype="fp32", batch_size=2, warmup=0, iters=1)
    return BenchConfig(**{**base, **kw})


def test_run_bench_takes_a_config(capsys):
    cfg = _cfg(backends=["torch", "ref"])
    check_bench(cfg)
    rows = run_bench(cfg)
    assert [(r["backend"], r["setting"]) for r in rows] == [
        ("torch", "r=0"), ("torch", "r=2"), ("ref", "r=0"), ("ref", "r=2")]
    assert rows[0]["speedup"] == 1.0 and rows[0]["ratio"] == 0.0 < rows[1]["ratio"]
    assert all(r["mode"] == "infer" and r["batch_size"] == 2 and r["im_per_s"] > 0 for r in rows)
    assert "r=2" in capsys.readouterr().out


def test_check_bench_names_the_fix():
    with pytest.raises(UsageError, match="--merge 'nope' is unknown"):
        check_bench(_cfg(merges=["nope"]))
    with pytest.raises(UsageError, match="--iters must be at least 1"):
        check_bench(_cfg(iters=0))
