"""`make predict-batch TASK=text`: one row per CSV row, keyed by its `id` (else its row number), with
the deployed model's class and probabilities; a row without text goes to the errors file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components import batch_inference, examples_io
from components.export import EXAMPLES_INPUT, SERVING_SIGNATURE
from pipeline import predict_batch
from tasks.text import features

CLASSES = ("fresh", "rotten")
VERSION = 3


def save_classifier(export_dir: str) -> str:
    """The text task's serving signature on a rule: p(fresh) rises with the text's length."""
    spec = {features.TEXT_KEY: tf.io.FixedLenFeature([], tf.string)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        text = tf.io.parse_example(examples, spec)[features.TEXT_KEY]  # (B,)
        fresh = tf.sigmoid((tf.cast(tf.strings.length(text), tf.float32) - 20.0) / 5.0)  # (B,)
        probabilities = tf.stack([fresh, 1.0 - fresh], axis=1)  # (B, 2)
        classes = tf.tile(tf.constant([CLASSES]), [tf.shape(text)[0], 1])  # (B, 2)
        label = tf.gather(tf.constant(CLASSES), tf.argmax(probabilities, axis=1))  # (B,)
        return {features.PROBABILITIES_KEY: probabilities, features.ALL_CLASSES_KEY: classes,
                features.PREDICTED_LABEL_KEY: label}  # fmt: skip

    tf.saved_model.save(tf.Module(), export_dir, signatures={SERVING_SIGNATURE: serve})
    return export_dir


@pytest.mark.slow
def test_each_row_gets_its_class_and_a_row_without_text_an_error(tmp_path):
    model_dir = save_classifier(str(tmp_path / "out" / "text" / "serving" / str(VERSION)))
    texts = ["A gripping, beautifully shot film.", "Dull.", "   ", "An uneven but often very funny comedy."]
    pd.DataFrame({"id": ["a", "b", "c", "d"], "text": texts}).to_csv(tmp_path / "texts.csv", index=False)
    out = str(tmp_path / "preds.csv")

    argv = ["--task", "text", "--output-dir", str(tmp_path / "out"), "--data", str(tmp_path / "texts.csv"), "--out", out]
    assert predict_batch.main(argv) == 0
    table, errors = pd.read_csv(out), pd.read_csv(batch_inference.errors_path(out))
    assert table["key"].tolist() == ["a", "b", "d"] and set(table[batch_inference.VERSION_COLUMN]) == {VERSION}
    assert errors["key"].tolist() == ["c"] and "no text" in errors["reason"].iloc[0]
    serve = tf.saved_model.load(model_dir).signatures[SERVING_SIGNATURE]
    examples = [examples_io.to_tf_example({features.TEXT_KEY: texts[i].strip()}).SerializeToString() for i in (0, 1, 3)]
    direct = serve(**{EXAMPLES_INPUT: tf.constant(examples)})
    np.testing.assert_allclose(table[[f"probability_{c}" for c in CLASSES]].to_numpy(),
                               direct[features.PROBABILITIES_KEY].numpy(), rtol=1e-5)  # fmt: skip
    assert table["label"].tolist() == [v.decode() for v in direct[features.PREDICTED_LABEL_KEY].numpy()]


def test_rows_without_a_key_column_are_numbered(tmp_path):
    from pipeline.config import load_config
    from tasks.text import batch

    pd.DataFrame({"text": ["one", "two", "three"]}).to_csv(tmp_path / "t.csv", index=False)
    config = load_config("text")
    assert [key for key, *_ in batch.inputs(config, str(tmp_path / "t.csv"))] == ["1", "2", "3"]
    assert [key for key, *_ in batch.inputs(config, str(tmp_path / "t.csv"), last=True)] == ["3"]


def test_a_task_without_batch_prediction_says_so(tmp_path, capsys):
    assert predict_batch.main(["--task", "vision", "--output-dir", str(tmp_path)]) == 2
    assert "not available" in capsys.readouterr().err
