"""Re-training (``rmeeto train``), evaluation (``rmeeto eval``) and loader benchmarks; :func:`train`
runs the loop in-process from a :class:`TrainConfig`."""
from .commands import register
from .config import BenchDataConfig, EvalConfig, TrainConfig
from .engine import run_train, train
from .errors import NonFiniteLoss, TrainError
from .evaluate import evaluate
from .losses import DistillationLoss, distill_kl
from .schedule import CosineWarmupLR

__all__ = ["register", "run_train", "train", "evaluate", "TrainConfig", "EvalConfig", "BenchDataConfig",
           "TrainError", "NonFiniteLoss", "DistillationLoss", "distill_kl", "CosineWarmupLR"]
