"""Small generated image folders for the vision tests (synthetic data: unit and e2e tests only)."""
from __future__ import annotations

import pathlib

import numpy as np

from tasks.vision.source import png_bytes

SIZE = 16
CLASSES = ("horizontal", "vertical")
GREY, NOISE, CONTRAST = 128, 30, 122  # background GREY +- NOISE; a stroke GREY +- CONTRAST


def stroke(rng: np.random.Generator, label: str, size: int = SIZE) -> np.ndarray:
    """A full-length stroke, bright or dark at random, at a random row or column (any of them)
    on a noisy grey background: a ViT's (or a CNN's) patches find it, a linear function of
    the pixels cannot.

    Why no linear function: the image minus GREY has the same distribution as its negative,
    in both classes (the noise is symmetric around GREY and the stroke's sign a coin flip),
    so any weighted sum of the pixels is distributed symmetrically around one and the same
    centre for both classes, and a threshold on it is right at most 75 % of the time (one
    class can sit on one side at best half the time). With bright strokes only, a stroke
    crossing column 0 once and never row 0 made "column 0 minus row 0" a near-perfect rule.
    """
    image = rng.integers(GREY - NOISE, GREY + NOISE + 1, (size, size))  # symmetric around GREY
    where = rng.integers(0, size)
    value = GREY + CONTRAST * rng.choice([-1, 1])
    if label == "horizontal":
        image[where, :] = value
    else:
        image[:, where] = value
    return image.astype(np.uint8)


def write_folder(root: pathlib.Path, per_class: int, seed: int = 0) -> pathlib.Path:
    """`root/<class>/<i>.png`, `per_class` images of each class."""
    rng = np.random.default_rng(seed)
    for label in CLASSES:
        (root / label).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            (root / label / f"{index:03d}.png").write_bytes(png_bytes(stroke(rng, label)))
    return root
