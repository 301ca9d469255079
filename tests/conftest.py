"""Shared fixtures (helpers for running tools live in tool_runner.py)."""
import cv2
import numpy as np
import pytest


@pytest.fixture
def tiny_folder(tmp_path) -> str:
    """Two classes of 12 noise PNGs (``<root>/<class>/*.png``): learnable only by chance."""
    rng = np.random.default_rng(0)
    root = tmp_path / 'tiny_folder'
    for cls in ('a', 'b'):
        (root / cls).mkdir(parents=True)
        for i in range(12):
            cv2.imwrite(str(root / cls / f'{i}.png'),
                        rng.integers(0, 256, (36, 36), dtype=np.uint8))
    return str(root)
