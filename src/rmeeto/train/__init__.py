"""Re-training (``rmeeto train``), evaluation (``rmeeto eval``) and loader benchmarks."""
from .commands import register
from .engine import NonFiniteLoss, TrainError, evaluate, run_train
from .losses import DistillationLoss, distill_kl
from .schedule import CosineWarmupLR

__all__ = ["register", "run_train", "evaluate", "TrainError", "NonFiniteLoss", "DistillationLoss",
           "distill_kl", "CosineWarmupLR"]
