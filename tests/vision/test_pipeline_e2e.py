"""End-to-end vision pipeline on a small generated folder of PNGs (LocalDagRunner, minutes): `pytest -m e2e`."""
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from components import examples_io
from pipeline import inspect_mlmd
from pipeline.config import load_config
from tasks.vision import features
from tasks.vision.example_gen import image_features
from tasks.vision.predict import classify_images
from tasks.vision.source import png_bytes
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task
from tests.vision.images import CLASSES, SIZE, write_folder

pytestmark = pytest.mark.e2e

PER_CLASS = 60  # 120 images: 36 eval, of which 18 are the gate's (data/splits.py)
TINY = [  # 16x16 strokes, a small ViT and budget
    f"vision.image_size=[{SIZE}, {SIZE}]",
    "vision.split_fractions=[0.5, 0.3, 0.2]",
    "model.patch_size=4",
    "model.num_layers=1",
    "model.model_dim=32",
    "model.num_heads=2",
    "model.learning_rate=0.003",
    "tuner.max_trials=1",
    "tuner.epochs=1",
    "tuner.steps_per_epoch=2",
    "trainer.epochs=25",
    "trainer.batch_size=16",
    "beam.direct_num_workers=1",
]


def schema_for(root: pathlib.Path) -> str:
    """The default schema with this folder's classes and size."""
    text = pathlib.Path(load_config("vision").schema_path).read_text()
    digits = "".join(f'  value: "{d}"\n' for d in range(10))
    text = text.replace(digits, "".join(f'  value: "{c}"\n' for c in CLASSES))
    text = text.replace("int_domain { min: 28 max: 28 }", f"int_domain {{ min: {SIZE} max: {SIZE} }}")
    path = root / "schema.pbtxt"
    path.write_text(text)
    return str(path)


def run(output_dir, folder, schema, overrides=()):
    return run_task("vision", output_dir, *TINY, f"schema={schema}", *overrides, data=folder)


@pytest.fixture(scope="module")
def pushed_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("vision")
    folder = write_folder(root / "images", PER_CLASS)
    schema = schema_for(root)
    assert run(root / "out", folder, schema) == 0
    config = load_config("vision", output_dir=str(root / "out"))
    return root, folder, schema, config


def test_a_vit_that_beats_the_pixel_baseline_is_pushed(pushed_run):
    root, _, _, config = pushed_run
    report = inspect_mlmd.collect(config.metadata_path)
    assert report["evaluation"]["blessed"], report["evaluation"].get("why")
    assert len(report["pushed_models"]) == 1
    assert list(pathlib.Path(config.serving_dir).glob("*/saved_model.pb"))
    scores = report["vision_scores"]
    for split in ("eval", "test"):
        assert set(scores[split]) == {"model", "baseline"}
        assert set(scores[split]["model"]) == {"accuracy", "macro_f1", "auc"}
    # Strokes at random positions: no linear function of the pixels separates the classes.
    assert scores["eval"]["model"]["accuracy"] > scores["eval"]["baseline"]["accuracy"]
    assert scores["test"]["model"]["accuracy"] >= 0.8


def test_serving_on_encoded_bytes_equals_the_in_process_prediction(pushed_run):
    _, folder, _, config = pushed_run
    files = sorted(folder.glob("*/*.png"))[:: PER_CLASS // 2][:4]
    images = [f.read_bytes() for f in files]
    records = [examples_io.to_tf_example(image_features(image)).SerializeToString() for image in images]
    serving_checks.check_predict_formats("vision", config.serving_dir, records, {features.IMAGE_KEY: images})
    model = tf.saved_model.load(serving_checks.serving_model.latest_model_dir(config.serving_dir))
    results = classify_images(model.signatures["serving_default"], images)
    assert [label for label, _ in results] == [f.parent.name for f in files]  # strokes are easy once learned


def corrupt(folder: pathlib.Path) -> None:
    (folder / "vertical" / "007.png").write_bytes(b"\x89PNG\r\n garbage")


def wrong_size(folder: pathlib.Path) -> None:
    (folder / "horizontal" / "big.png").write_bytes(png_bytes(np.zeros((SIZE + 4, SIZE), np.uint8)))


def unknown_class(folder: pathlib.Path) -> None:
    (folder / "diagonal").mkdir()
    (folder / "diagonal" / "a.png").write_bytes((folder / "vertical" / "001.png").read_bytes())


BAD_FOLDERS = [  # (damage, words the error must contain)
    (corrupt, ["feature 'image_status'", "file 'vertical/007.png'", "does not decode"]),
    (wrong_size, ["feature 'image_height'", f"file 'horizontal/big.png': {SIZE + 4} is outside [{SIZE}, {SIZE}]"]),
    (unknown_class, ["feature 'label'", "file 'diagonal/a.png': 'diagonal' is not in the domain"]),
]


def test_a_bad_image_stops_the_run_at_the_gate_naming_the_file(pushed_run, tmp_path, capsys):
    """One bad folder through the pipeline; every one of them in process, below."""
    root, good, schema, config = pushed_run
    damage, words = BAD_FOLDERS[0]
    folder = write_folder(tmp_path / "images", PER_CLASS)
    damage(folder)
    before = bad_inputs.snapshot(config.serving_dir)
    code = run(root / "out", folder, schema)
    bad_inputs.assert_stopped_at_the_gate(code, capsys.readouterr().err, words, config, before)


@pytest.mark.parametrize("damage, words", BAD_FOLDERS, ids=[d.__name__ for d, _ in BAD_FOLDERS])
def test_each_bad_folder_stops_at_the_gate_naming_the_file(pushed_run, tmp_path, damage, words):
    """The pipeline's own code up to the AnomalyGate, in process (tests/e2e/bad_inputs.py)."""
    _, _, schema, _ = pushed_run
    folder = write_folder(tmp_path / "images", PER_CLASS)
    damage(folder)
    message = bad_inputs.stop_in_process(load_config("vision", overrides=[*TINY, f"schema={schema}"]), str(folder), tmp_path)
    assert message.startswith("Data validation failed")  # the gate's, not the ExampleGen's
    bad_inputs.assert_says(message, words)


def test_inspect_json_has_vision_scores(pushed_run, capsys):
    _, _, _, config = pushed_run
    argv = ["--task", "vision", "--output-dir", str(config.output_dir), "--json", "--run", "0"]  # the pushing run
    assert inspect_mlmd.main(argv) == 0
    text = capsys.readouterr().out
    data = json.loads(text[text.index("{"):])
    assert {"model", "baseline"} <= set(data["vision_scores"]["test"])


def test_report_shows_the_confusion_matrix_and_misclassified_images(pushed_run):
    from pipeline.report import build_report

    _, _, _, config = pushed_run
    page = build_report(config, run="0")
    for title in ("Confusion matrix (test split)", "Misclassified test images"):
        section = page.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]
        assert "Not available" not in section, section[:500]
        assert "data:image/png;base64," in section or "classifies all" in section
