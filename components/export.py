"""Export a trained Keras 3 model as a SavedModel that serves raw tf.Examples.

Keras 3 cannot `model.save(dir, save_format="tf")`; `tf.saved_model.save` with an
explicit signature can (../shared/stack.md). The transform graph's
variables, tables and assets are attached to the SavedModel's root (`transform_graph`), so
they travel inside it: serving takes the raw features the user has and applies the exact
train-time transform. The signatures are traced without AutoGraph: the models' Python
control flow depends on shapes and settings, never on tensor values, and AutoGraph's
conversion of every Keras layer took most of an export's time.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components import distribution

SERVING_SIGNATURE = "serving_default"
EVALUATION_SIGNATURE = "evaluation"  # serving outputs plus the challengers' predictions, for the gate
TRANSFORM_SIGNATURE = "transform_features"
RAW_SIGNATURE = "predict_raw"  # the raw features as plain tensors, for JSON clients (TF Serving REST)
EXAMPLES_INPUT = "examples"  # name of the serialized tf.Example input of every signature


def call_in_batches(signature, records: list[bytes], batch: int = 512) -> dict:
    """Every output of `signature` on serialized examples, called `batch` at a time: {key: (N, ...)}."""
    parts: dict[str, list] = {}
    for start in range(0, len(records), batch):
        outputs = signature(**{EXAMPLES_INPUT: tf.constant(records[start : start + batch])})
        for key, value in outputs.items():
            parts.setdefault(key, []).append(value.numpy())
    return {key: np.concatenate(values) for key, values in parts.items()}


def raw_serving_spec(tf_transform_output: tft.TFTransformOutput, label_keys: Iterable[str]) -> dict:
    """Raw feature spec minus the labels: what a caller sends at serving time."""
    spec = tf_transform_output.raw_feature_spec()
    for key in label_keys:
        spec.pop(key, None)
    return spec


def serving_versions(serving_dir: str) -> list[int]:
    """Pushed versions under a serving directory, oldest first: the numeric directory names,
    as TF Serving reads them (a staging directory is never one; components/pusher.py)."""
    if not tf.io.gfile.exists(serving_dir):
        return []
    return sorted(int(v.strip("/")) for v in tf.io.gfile.listdir(serving_dir) if v.strip("/").isdigit())


def raw_tensor_specs(spec: dict) -> dict[str, tf.TensorSpec]:
    """The raw features as plain tensors: (B, *shape) per feature, and (B,) for a one-value
    feature such as a text, so that a JSON client sends `{"text": "..."}`, not `["..."]`."""
    specs = {}
    for key, feature in spec.items():
        if not isinstance(feature, tf.io.FixedLenFeature):
            raise ValueError(f"raw feature '{key}' is {type(feature).__name__}: only fixed-length features serve raw")
        shape = list(feature.shape)
        specs[key] = tf.TensorSpec([None] + ([] if shape == [1] else shape), feature.dtype, name=key)
    return specs


def attach_transform(root: tf.Module, tf_transform_output: tft.TFTransformOutput):
    """The transform graph as a callable (raw features -> transformed), its variables, tables
    and assets tracked by `root` as TFT's layer tracks them (tensorflow_transform/
    output_wrapper.py), without the tf_keras layer itself: saving a tf_keras layer traces its
    legacy Keras serialization functions, 10 s an export for nothing the signatures use."""
    layer = tf_transform_output.transform_features_layer()
    root.transform_graph = layer._saved_model_loader_tracked_dict  # noqa: SLF001
    return layer


def export_serving_model(
    model,
    tf_transform_output: tft.TFTransformOutput,
    label_keys: Iterable[str],
    predict: Callable[[dict], dict],
    export_dir: str,
    evaluate: Callable[[dict], dict] | None = None,
    tracked: dict | None = None,
    adapters: dict[str, tuple[dict, Callable[[dict], dict]]] | None = None,
) -> None:
    """Save `model` with a `serving_default` signature on serialized raw tf.Examples, and
    `predict_raw` on the same raw features as plain tensors (same outputs).

    `predict(transformed_features) -> outputs` maps the transform's output to the
    signature's outputs (for example de-normalized forecasts, or labels and probabilities).
    A second signature, `transform_features`, returns the transformed features, for debugging.
    `evaluate(transformed_features) -> outputs`, when given, becomes the `evaluation`
    signature: what `predict` returns plus the predictions of challengers fitted in the
    same run, which the Evaluator and the Scorer score on the same examples. Serving
    clients never see the challengers. `tracked` names further objects (such as a
    challenger model) whose variables the signatures use, so that they are saved too.
    `adapters` adds signatures on other inputs: {name: (input TensorSpecs, inputs -> raw
    features)}, such as float audio samples encoded to the WAV bytes the raw features hold;
    they return what `predict` returns.
    With several workers (`TF_CONFIG`), every worker saves and only the chief's copy is kept at
    `export_dir` (components/distribution.py).
    """
    root = tf.Module()  # the SavedModel's root: the model, the transform graph and `tracked`
    root.model = model
    tft_layer = attach_transform(root, tf_transform_output)
    for name, value in (tracked or {}).items():
        setattr(root, name, value)
    spec = raw_serving_spec(tf_transform_output, label_keys)

    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve(examples):
        raw = tf.io.parse_example(examples, spec)
        return predict(tft_layer(raw))

    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def transform_features(examples):
        return tft_layer(tf.io.parse_example(examples, spec))

    raw_specs = raw_tensor_specs(spec)

    @tf.function(autograph=False)
    def serve_raw(inputs: dict):
        raw = {k: tf.reshape(v, [-1, *spec[k].shape]) for k, v in inputs.items()}  # (B,) -> (B, 1) for one value
        return predict(tft_layer(raw))

    signatures = {
        SERVING_SIGNATURE: serve,
        RAW_SIGNATURE: serve_raw.get_concrete_function(raw_specs),
        TRANSFORM_SIGNATURE: transform_features,
    }
    for name, (input_specs, to_raw) in (adapters or {}).items():

        @tf.function(autograph=False)
        def adapted(inputs: dict, to_raw=to_raw):
            return predict(tft_layer(to_raw(inputs)))

        signatures[name] = adapted.get_concrete_function(input_specs)
    if evaluate is not None:

        @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
        def evaluation(examples):
            return evaluate(tft_layer(tf.io.parse_example(examples, spec)))

        signatures[EVALUATION_SIGNATURE] = evaluation
    with distribution.written(export_dir) as target:  # several workers: only the chief's stays
        tf.saved_model.save(root, target, signatures=signatures)
