"""rmeeto: faster Vision Mamba by order-preserving token merging, rebuilt in minutes (R-MeeTo)."""
from .checkpoint import load_checkpoint, save_checkpoint
from .compile import compile_for_inference
from .flops import gflops
from .models import create_model, list_models
from .patch import patch, patch_settings, reduction_ratio, unpatch

__version__ = "0.1.0"
__all__ = ["create_model", "list_models", "load_checkpoint", "save_checkpoint", "patch", "unpatch",
           "patch_settings", "reduction_ratio", "gflops", "compile_for_inference", "__version__"]
