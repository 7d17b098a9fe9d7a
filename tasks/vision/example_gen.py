"""VisionExampleGen: a folder of labelled images -> tf.Examples in seeded train/eval/test splits.

Each example carries the file's encoded bytes (`image`, as a serving client sends them),
its class (`label`, the sub-folder name), its path under the folder (`file`) and what
decoding found: `image_status` ("ok" or the decoder's error) and, for an image that
decodes, its height, width and channel count. Decoding uses `tf.io.decode_image`, the
op Transform and serving use, so the check and the model cannot disagree.

Nothing is dropped here: a file that does not decode, or has the wrong size, channel
count or class, reaches the examples, and the curated schema (`tasks/vision/schema.pbtxt`)
stops the run at the AnomalyGate, which names the file.
"""

import json

import tensorflow as tf
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import examples_io
from data import features
from data.config import VisionConfig
from data.folders import read_bytes
from data.splits import SPLITS, check_classes_in_train, subsample
from tasks.vision import source as vision_source


def decode_status(encoded: bytes) -> tuple[str, tuple[int, int, int] | None]:
    """(IMAGE_OK or the decoder's complaint, (height, width, channels) or None)."""
    try:
        image = tf.io.decode_image(encoded, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        message = error.message.splitlines()[0] if error.message else type(error).__name__
        return f"does not decode: {message}"[:200], None
    return features.IMAGE_OK, tuple(int(d) for d in image.shape)


def to_tf_example(encoded: bytes, label: str | None = None, file: str | None = None) -> tf.train.Example:
    """An image example: the encoded bytes, and, when known, its class, file and decode findings.

    A serving client sends only `image`; the ExampleGen adds what validation checks."""

    def bytes_feature(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    feature = {features.IMAGE_KEY: bytes_feature(encoded)}
    if label is not None:
        feature[features.LABEL_KEY] = bytes_feature(label.encode("utf-8"))
    if file is not None:
        feature[features.FILE_KEY] = bytes_feature(file.encode("utf-8"))
        status, shape = decode_status(encoded)
        feature[features.IMAGE_STATUS_KEY] = bytes_feature(status.encode("utf-8"))
        if shape is not None:
            keys = (features.IMAGE_HEIGHT_KEY, features.IMAGE_WIDTH_KEY, features.IMAGE_CHANNELS_KEY)
            for key, size in zip(keys, shape, strict=True):
                feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[size]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_splits(folder: str, vision: VisionConfig, seed: int, output_uri: str) -> tuple[dict, int]:
    """Write one gzipped TFRecord file per split under `output_uri`; returns (counts per split,
    byte-identical duplicate files kept together)."""
    frame = subsample(vision_source.list_images(folder, vision), vision.max_examples, seed)
    splits, duplicates = vision_source.split_rows(folder, frame, vision, seed)
    check_classes_in_train(frame["label"], splits, folder, vision_source.UNSEEN_CLASS_REMEDY)
    counts = {}
    for split in SPLITS:
        rows = frame[splits == split]
        counts[split] = examples_io.write_split(
            output_uri,
            split,
            (to_tf_example(read_bytes(folder, file), label, file) for file, label in zip(rows["file"], rows["label"], strict=True)),
        )
    return counts, duplicates


@component
def VisionExampleGen(
    examples: OutputArtifact[standard_artifacts.Examples],
    folder: Parameter[str],
    data_fingerprint: Parameter[str],
    source_fingerprint: Parameter[str],
    vision_config: Parameter[str],
    seed: Parameter[int],
) -> None:
    """Splits the images under `folder` per `vision_config` (a VisionConfig as JSON) into `examples`."""
    del data_fingerprint, source_fingerprint  # only part of the cache key (pipeline/fingerprint.py)
    vision = VisionConfig(**json.loads(vision_config))
    counts, duplicates = write_splits(folder, vision, seed, examples.uri)
    examples_io.describe(examples, SPLITS, folder, counts, "examples")
    examples.set_int_custom_property("duplicate_images", duplicates)
    source = "its split folders" if vision.split_folders else "a seeded, stratified split"
    print(f"VisionExampleGen: {counts} images from {folder} ({source}); {duplicates} byte-identical duplicate(s)")
