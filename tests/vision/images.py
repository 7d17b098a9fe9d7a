"""Small generated image folders for the vision tests (synthetic data: unit and e2e tests only)."""
from __future__ import annotations

import pathlib

import numpy as np

from tasks.vision.source import png_bytes

SIZE = 16
CLASSES = ("horizontal", "vertical")


def stroke(rng: np.random.Generator, label: str, size: int = SIZE) -> np.ndarray:
    """A full-length bright stroke at a random row or column on a noisy dark background:
    no linear function of the pixels tells the two classes apart, a ViT's patches do."""
    image = rng.integers(0, 60, (size, size)).astype(np.uint8)
    where = rng.integers(1, size - 1)
    if label == "horizontal":
        image[where, :] = 230
    else:
        image[:, where] = 230
    return image


def write_folder(root: pathlib.Path, per_class: int, seed: int = 0) -> pathlib.Path:
    """`root/<class>/<i>.png`, `per_class` images of each class."""
    rng = np.random.default_rng(seed)
    for label in CLASSES:
        (root / label).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            (root / label / f"{index:03d}.png").write_bytes(png_bytes(stroke(rng, label)))
    return root
