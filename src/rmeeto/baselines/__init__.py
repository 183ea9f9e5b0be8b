"""Baselines for comparison (not part of the Vision Mamba method)."""
