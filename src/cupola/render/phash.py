"""Perceptual hashes (difference hash, Krawetz 2013) to compare renders with golden images."""

from __future__ import annotations

import numpy as np


def dhash(rgb: np.ndarray, size: int = 16) -> str:
    """Return the difference hash of an image as hex (size*size bits).

    The image is reduced to grey (Rec.709 luma), resized to (size+1) x size with Lanczos, and each
    bit says whether a pixel is brighter than its right-hand neighbour.
    """
    from PIL import Image

    img = Image.fromarray(np.asarray(rgb, np.uint8)).convert("L").resize((size + 1, size), Image.LANCZOS)
    a = np.asarray(img, dtype=np.int16)
    bits = (a[:, 1:] > a[:, :-1]).ravel()
    value = 0
    for b in bits:
        value = (value << 1) | int(b)
    return f"{value:0{size * size // 4}x}"


def hamming(a: str, b: str) -> int:
    """Return the number of differing bits between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes of different lengths: {len(a)} and {len(b)} hex digits")
    return bin(int(a, 16) ^ int(b, 16)).count("1")
