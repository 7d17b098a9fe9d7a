"""The vision writer: a folder of labelled images -> tf.Examples in seeded train/eval/test splits.

Each example carries the file's encoded bytes (`image`, as a serving client sends them),
its class (`label`, the sub-folder name), its path under the folder (`file`) and what
decoding found: `image_status` ("ok" or the decoder's error) and, for an image that
decodes, its height, width and channel count. Decoding uses `tf.io.decode_image`, the
op Transform and serving use, so the check and the model cannot disagree.

Nothing is dropped here: a file that does not decode, or has the wrong size, channel
count or class, reaches the examples, and the curated schema (`tasks/vision/schema.pbtxt`)
stops the run at the AnomalyGate, which names the file.
"""

import tensorflow as tf

from components import examples_io
from components.example_gen import Written
from data import spans
from data.config import PipelineConfig
from data.folders import read_bytes
from data.splits import check_classes_in_train, subsample
from tasks.vision import features
from tasks.vision import source as vision_source
from tasks.vision.config import VisionConfig


def decode_status(encoded: bytes) -> tuple[str, tuple[int, int, int] | None]:
    """(IMAGE_OK or the decoder's complaint, (height, width, channels) or None)."""
    try:
        image = tf.io.decode_image(encoded, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        message = error.message.splitlines()[0] if error.message else type(error).__name__
        return f"does not decode: {message}"[:200], None
    return features.IMAGE_OK, tuple(int(d) for d in image.shape)


def image_features(encoded: bytes, label: str | None = None, file: str | None = None) -> dict:
    """An image example's features: the encoded bytes, and, when known, its class, file and
    decode findings. A serving client sends only `image`; the ExampleGen adds what validation checks."""
    values = {features.IMAGE_KEY: encoded, features.LABEL_KEY: label, features.FILE_KEY: file}
    if file is not None:
        status, shape = decode_status(encoded)
        values[features.IMAGE_STATUS_KEY] = status
        if shape is not None:
            keys = (features.IMAGE_HEIGHT_KEY, features.IMAGE_WIDTH_KEY, features.IMAGE_CHANNELS_KEY)
            values.update({key: int(size) for key, size in zip(keys, shape, strict=True)})
    return values


def write_splits(folder: str, vision: VisionConfig, seed: int, output_uri: str, stable: bool = False) -> tuple[dict, int]:
    """Write one gzipped TFRecord file per split under `output_uri`; returns (counts per split,
    byte-identical duplicate files kept together)."""
    frame = subsample(vision_source.list_images(folder, vision), vision.max_examples, seed)
    splits, duplicates = vision_source.split_rows(folder, frame, vision, seed, stable)
    check_classes_in_train(frame["label"], splits, folder, vision_source.UNSEEN_CLASS_REMEDY)
    counts = examples_io.write_frame(
        output_uri, frame, splits, lambda row: image_features(read_bytes(folder, row.file), row.label, row.file)
    )
    return counts, duplicates


def write_examples(config: PipelineConfig, folder: str, output_uri: str) -> Written:
    vision = config.vision
    # spans (data/spans.py): every row keeps its split as spans arrive
    counts, duplicates = write_splits(folder, vision, config.seed, output_uri, stable=spans.is_pattern(config.data))
    source = "its split folders" if vision.split_folders else "a seeded, stratified split"
    return Written(counts, "images", {"duplicate_images": duplicates},
                   f"Split by {source}; {duplicates} byte-identical duplicate(s).", stratify=features.LABEL_KEY)  # fmt: skip
