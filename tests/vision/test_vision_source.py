import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components import anomaly_rows, examples_io
from data import schemas
from pipeline.config import load_config
from tasks.vision import features
from tasks.vision import schema_check as vision_schema
from tasks.vision import source as vision_source
from tasks.vision.config import VisionConfig
from tasks.vision.example_gen import decode_status, image_features, write_splits
from tasks.vision.preprocessing import decode_images
from tests.vision.images import CLASSES, SIZE, write_folder


@pytest.mark.slow
def test_default_folder_holds_the_5000_mnist_digits(tmp_path):
    folder = vision_source.prepare_default_folder(str(tmp_path))
    frame = vision_source.list_images(folder, VisionConfig())
    assert len(frame) == 5000
    assert frame["label"].value_counts().to_dict() == {str(d): 500 for d in range(10)}
    image = Image.open(f"{folder}/{frame['file'][0]}")
    assert image.size == (28, 28) and image.mode == "L"


def test_seeded_stratified_split_keeps_duplicates_together(tmp_path):
    folder = write_folder(tmp_path / "images", per_class=20)
    (folder / "horizontal" / "copy.png").write_bytes((folder / "horizontal" / "000.png").read_bytes())
    vision = VisionConfig(split_fractions=[0.5, 0.25, 0.25])
    frame = vision_source.list_images(str(folder), vision)
    splits, duplicates = vision_source.split_rows(str(folder), frame, vision, seed=3)
    assert duplicates == 1
    by_file = dict(zip(frame["file"], splits, strict=True))
    assert by_file["horizontal/copy.png"] == by_file["horizontal/000.png"]
    for label in CLASSES:
        counts = {s: int(((frame["label"] == label).to_numpy() & (splits == s)).sum()) for s in ("train", "eval", "test")}
        assert abs(counts["train"] - counts["eval"] * 2) <= 2, counts
    again, _ = vision_source.split_rows(str(folder), frame, vision, seed=3)
    assert list(again) == list(splits)


def test_split_folders_are_the_data_sets_own_split(tmp_path):
    for split in ("train", "eval", "test"):
        write_folder(tmp_path / "images" / split, per_class=2, seed=len(split))
    vision = VisionConfig(split_folders=True)
    frame = vision_source.list_images(str(tmp_path / "images"), vision)
    splits, _ = vision_source.split_rows(str(tmp_path / "images"), frame, vision, seed=0)
    assert sorted(set(splits)) == ["eval", "test", "train"]
    assert all(f.startswith(s + "/") for f, s in zip(frame["file"], splits, strict=True))


def test_a_file_outside_the_class_layout_is_named(tmp_path):
    folder = write_folder(tmp_path / "images", per_class=2)
    (folder / "loose.png").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"not at <class>/<file>, e.g. 'loose.png'"):
        vision_source.list_images(str(folder), VisionConfig())


def test_an_empty_folder_says_what_it_expects(tmp_path):
    with pytest.raises(ValueError, match="a sub-folder named after the class"):
        vision_source.list_images(str(tmp_path), VisionConfig())


def test_decode_status_reports_corrupt_files_and_shapes():
    assert decode_status(b"not an image")[0].startswith("does not decode")
    rgb = io.BytesIO()
    Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(rgb, format="JPEG")
    assert decode_status(rgb.getvalue()) == ("ok", (5, 7, 3))


def test_the_schema_check_names_rows_by_file(tmp_path):
    config = load_config("vision")
    schema = schemas.load(config.schema_path)
    good = examples_io.to_tf_example(image_features(vision_source.png_bytes(np.zeros((28, 28), np.uint8)), "3", "3/good.png"))
    corrupt = examples_io.to_tf_example(image_features(b"garbage", "3", "3/corrupt.png"))
    wrong_size = examples_io.to_tf_example(image_features(vision_source.png_bytes(np.zeros((32, 28), np.uint8)), "4", "4/big.png"))
    unknown = examples_io.to_tf_example(image_features(vision_source.png_bytes(np.zeros((28, 28), np.uint8)), "cat", "cat/x.png"))
    records = [e.SerializeToString() for e in (good, corrupt, wrong_size, unknown)]
    names = [features.IMAGE_STATUS_KEY, features.IMAGE_HEIGHT_KEY, features.LABEL_KEY]
    found = anomaly_rows.offending_examples(records, schema, names)
    [status] = found[features.IMAGE_STATUS_KEY]
    assert status.startswith("file '3/corrupt.png': 'does not decode")
    assert found[features.IMAGE_HEIGHT_KEY] == ["file '3/corrupt.png': missing", "file '4/big.png': 32 is outside [28, 28]"]
    assert found[features.LABEL_KEY] == ["file 'cat/x.png': 'cat' is not in the domain"]


def test_rows_without_a_file_are_named_by_position():
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = schemas.parse('feature { name: "x" type: INT int_domain { min: 0 max: 1 } presence { min_fraction: 1.0 } }')
    assert isinstance(schema, schema_pb2.Schema)
    rows = [tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))}))
            for v in (0, 5, 1)]  # fmt: skip
    found = anomaly_rows.offending_examples([r.SerializeToString() for r in rows], schema, ["x"])
    assert found == {"x": ["example 2: 5 is outside [0, 1]"]}


def test_vision_schema_must_match_the_configured_size():
    config = load_config("vision", overrides=["vision.image_size=[32, 32]"])
    with open(config.schema_path) as handle:
        text = handle.read()
    with pytest.raises(schemas.SchemaMismatch, match=r"vision.image_size\[0\] is 32"):
        schemas.check(config, text, vision_schema.problems)


def test_decoding_resizes_and_converts_channels(tmp_path):
    gray = vision_source.png_bytes(np.full((SIZE, SIZE), 255, np.uint8))
    rgb = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 255, np.uint8)).save(rgb, format="PNG")
    pixels = decode_images(tf.constant([gray, rgb.getvalue()]), VisionConfig(image_size=[SIZE, SIZE], channels=1)).numpy()
    assert pixels.shape == (2, SIZE, SIZE, 1)
    assert np.allclose(pixels, 1.0)


def test_examples_carry_the_encoded_bytes(tmp_path):
    folder = write_folder(tmp_path / "images", per_class=4)
    counts, _ = write_splits(str(folder), VisionConfig(image_size=[SIZE, SIZE], split_fractions=[0.5, 0.25, 0.25]), 0, str(tmp_path / "out"))
    assert sum(counts.values()) == 8
    from components import examples_io

    example = tf.train.Example.FromString(examples_io.read_split(str(tmp_path / "out"), "train")[0])
    file = example.features.feature[features.FILE_KEY].bytes_list.value[0].decode()
    assert example.features.feature[features.IMAGE_KEY].bytes_list.value[0] == (folder / file).read_bytes()
    assert example.features.feature[features.IMAGE_HEIGHT_KEY].int64_list.value[0] == SIZE


def test_folder_spans_are_written_as_one_folder_and_each_image_keeps_its_split(tmp_path):
    """Images arriving as span folders (`images-{SPAN}/<class>/*.png`): every span's images are
    written, and an image's split does not change when a later span arrives."""
    from components import example_gen, examples_io
    from pipeline.config import load_config

    for span, seed in ((1, 0), (2, 1)):
        write_folder(tmp_path / f"images-{span}", per_class=12, seed=seed)
    pattern = str(tmp_path / "images-{SPAN}")
    settings = ["vision.image_size=[16, 16]", "vision.split_fractions=[0.5, 0.25, 0.25]"]

    def files_by_split(window: int) -> dict[str, set]:
        config = load_config("vision", data=pattern, overrides=[*settings, f"spans.window={window}", "spans.until=null"])
        out = tmp_path / f"out{window}"
        written = example_gen.write("tasks.vision.example_gen.write_examples", config, pattern, str(out))
        assert sum(written.counts.values()) == 24 * (1 if window == 1 else 2)
        return {s: {tf.train.Example.FromString(r).features.feature[features.IMAGE_KEY].bytes_list.value[0]
                    for r in examples_io.read_split(str(out), s)} for s in ("train", "eval", "test")}  # fmt: skip

    both, newest = files_by_split(2), files_by_split(1)  # spans 1 and 2; span 2 alone
    for split in ("train", "eval", "test"):
        assert newest[split] <= both[split]  # span 2's images are in the same split either way
