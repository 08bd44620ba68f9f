"""Reading the development images (PNG/JPEG) the benchmark scripts use."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def read_rgb(path: Path) -> np.ndarray:
    """The 8-bit RGB pixels of the image at ``path``; stops with the path named when it
    cannot be read (``cv2.imread`` returns None for a missing or undecodable file)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path} as an image: check the file, or leave it out")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
