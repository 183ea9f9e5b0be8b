import os
from pathlib import Path

import pytest
import torch

FIXTURES = Path(__file__).parent / "fixtures"
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="package")
def reference():
    """Official-code outputs for a d64/l8 Vim (see ../shared/reference/README.md)."""
    return torch.load(FIXTURES / "public_vim_d64_l8.pt", weights_only=True)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models run faster on one intra-op thread, and do not fight the data workers."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def kernel_settings():
    """Every test starts from the environment's kernel settings and leaves no change behind."""
    from rmeeto.ops import settings

    settings.reset()
    yield
    settings.reset()


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
