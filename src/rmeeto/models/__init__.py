"""Model registry (timm-style): one registered name per configuration."""
from .registry import create_model, list_models, register_model
from .timm_compat import install_timm_hook
from .vim import Block, TokenState, VisionMamba

__all__ = ["create_model", "list_models", "register_model", "VisionMamba", "Block", "TokenState"]

install_timm_hook()  # timm.create_model builds rmeeto's models too, once timm is imported
