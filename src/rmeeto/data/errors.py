"""Errors raised by the data pipeline (subclass ``ValueError`` so callers can catch broadly)."""


class DataError(ValueError):
    """A dataset is missing, empty or inconsistent with what the run asked for."""
