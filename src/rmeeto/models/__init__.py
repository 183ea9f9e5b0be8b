"""Model registry (timm-style): one registered name per configuration."""
from .registry import create_model, list_models, register_model
from .vim import Block, TokenState, VisionMamba

__all__ = ["create_model", "list_models", "register_model", "VisionMamba", "Block", "TokenState"]
