"""Live accuracy of the text classifier (tasks/text/live.py): logged requests joined to a labels CSV by
key, the 0/1 errors of the logged label, of the TF-IDF challenger through a tiny real SavedModel's
`evaluation` signature, and of the truth's majority class; then the shared summary
(serving/live_accuracy.py) and its report section (reporting/monitoring.py)."""
from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
import tensorflow as tf

from components.export import EVALUATION_SIGNATURE, EXAMPLES_INPUT, SERVING_SIGNATURE
from pipeline import config as pipeline_config
from reporting import monitoring
from serving import live_accuracy, request_log
from tasks.text import live

LONG = 12  # characters: the tiny challenger calls a longer text "long"
TEXTS = ["a cat", "a long story about a dog", "hi", "an even longer story here", "dogs", "one more long text"]
LOGGED = ["short", "short", "short", "long", "long", "long"]  # what the deployed model answered
TRUTH = {"r0": "short", "r1": "long", "r2": "long", "r3": "long"}  # r4, r5 not labelled yet


def save_model(export_dir: str) -> str:
    """`evaluation` on serialized tf.Examples: the serving outputs plus `baseline_label`."""
    spec = {"text": tf.io.FixedLenFeature([], tf.string)}

    def by_length(texts):  # (B,) -> (B,) "long" | "short"
        return tf.where(tf.strings.length(texts) > LONG, tf.constant("long"), tf.constant("short"))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        return {"label": by_length(tf.io.parse_example(examples, spec)["text"])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def evaluation(examples):
        texts = tf.io.parse_example(examples, spec)["text"]
        return {"label": by_length(texts), "baseline_label": by_length(texts)}

    tf.saved_model.save(tf.Module(), export_dir, signatures={SERVING_SIGNATURE: serve, EVALUATION_SIGNATURE: evaluation})
    return export_dir


def request(text: str, label: str, key: str | None, millis: int) -> tf.train.Example:
    example = tf.train.Example()
    features = example.features.feature
    features["text"].bytes_list.value.append(text.encode())
    features[request_log.KEY_FEATURE].bytes_list.value.append((key or uuid.uuid4().hex).encode())
    features[request_log.TIME_FEATURE].int64_list.value.append(millis)
    features[request_log.VERSION_FEATURE].int64_list.value.append(3)
    features[request_log.OUTPUT_PREFIX + "label"].bytes_list.value.append(label.encode())
    return example


@pytest.fixture()
def joined(tmp_path):
    model_dir = save_model(str(tmp_path / "model"))
    requests = [request(t, p, f"r{i}", 1_700_000_000_000 + i) for i, (t, p) in enumerate(zip(TEXTS, LOGGED, strict=True))]
    requests.append(request("no key sent", "short", None, 1_700_000_000_100))
    truth = tmp_path / "labels.csv"
    truth.write_text("key,label\n" + "".join(f"{k},{v}\n" for k, v in TRUTH.items()) + "r5,\n")  # r5: no label yet
    return live.live_truth(pipeline_config.load_config("text"), str(truth), requests, model_dir), requests, truth


def test_the_labels_are_joined_by_key_and_counted(joined):
    result, _, _ = joined
    assert result.counts() == {"joined": 4, "unknown": 2, "no_key": 1}


def test_the_error_rates_are_the_hand_computed_ones(joined):
    result, requests, _ = joined
    keys = [f"r{i}" for i in range(4)]
    deployed = np.mean([LOGGED[i] != TRUTH[k] for i, k in enumerate(keys)])
    baseline = np.mean([("long" if len(TEXTS[i]) > LONG else "short") != TRUTH[k] for i, k in enumerate(keys)])
    majority = np.mean([TRUTH[k] != "long" for k in keys])  # "long" is the truth's most frequent label
    summary = live_accuracy.summarize(result, [request_log.time_of(e) for e in requests])
    means = {name: m["mean"] for name, m in summary["models"].items()}
    assert means == pytest.approx({"deployed": deployed, "baseline": baseline, "majority": majority})
    assert summary["models"]["baseline"]["diff"] == pytest.approx(baseline - deployed)
    assert np.isnan(result.losses["deployed"][4:]).all()  # unknown and keyless requests have no loss


def test_a_key_labelled_twice_differently_is_refused(tmp_path, joined):
    truth = tmp_path / "twice.csv"
    truth.write_text("key,label\nr0,short\nr0,long\n")
    with pytest.raises(ValueError, match="labelled both"):
        live.live_truth(None, str(truth), joined[1], str(tmp_path / "model"))


def test_the_report_section_renders_a_text_live_json(tmp_path, joined):
    result, requests, truth = joined
    summary = live_accuracy.summarize(result, [request_log.time_of(e) for e in requests])
    path = tmp_path / monitoring.LIVE
    path.write_text(json.dumps({"truth": str(truth), "selected_by": "every request in the log", **summary}))
    section = monitoring.live_section(path)
    assert "4 joined to their truth" in section and "mean error rate" in section and "majority" in section
    assert section.count("<img") == 1
