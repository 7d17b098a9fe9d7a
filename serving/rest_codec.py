"""TensorFlow Serving's REST predict format <-> tensors, with errors a client can act on.

Request bodies (https://www.tensorflow.org/tfx/serving/api_rest):
- row format: `{"signature_name": ..., "instances": [instance, ...]}`, where an instance
  is `{input: value, ...}`, or a bare value when the signature has one input;
- columnar format: `{"signature_name": ..., "inputs": {input: [values]}}` or a bare list
  when the signature has one input;
- bytes as `{"b64": "..."}` (how the tf.Example signature's serialized examples travel).
Responses: `{"predictions": [...]}` for the row format (one entry per instance, a dict
when there are several outputs), `{"outputs": ...}` for the columnar format.
Every problem raises `RequestError`, which the server turns into HTTP 400 `{"error": ...}`.
"""
from __future__ import annotations

import base64
import binascii

import numpy as np
import tensorflow as tf


class RequestError(ValueError):
    """The request cannot be served as sent (HTTP 400)."""


def _decode(value, dtype: tf.DType, where: str):
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise RequestError(f"{where}: an object value must be {{\"b64\": \"<base64>\"}}, got keys {sorted(value)}")
        if dtype != tf.string:
            raise RequestError(f"{where}: b64 given for an input of type {dtype.name}")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError) as error:
            raise RequestError(f"{where}: invalid base64 ({error})") from None
    if isinstance(value, list):
        return [_decode(v, dtype, where) for v in value]
    if dtype == tf.string:
        if not isinstance(value, str):
            raise RequestError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
        return value.encode()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
    return value


def to_tensor(values, spec: tf.TensorSpec, where: str) -> tf.Tensor:
    """A batch (list of per-example values) as a tensor of `spec`'s dtype and shape."""
    decoded = _decode(values, spec.dtype, where)
    try:
        array = np.array(decoded, dtype=object if spec.dtype == tf.string else spec.dtype.as_numpy_dtype)
    except (ValueError, TypeError) as error:
        raise RequestError(f"{where}: values do not form a {spec.dtype.name} array ({error})") from None
    expected = spec.shape
    if array.ndim != expected.rank or not expected.is_compatible_with(array.shape):
        wanted = ["batch" if d is None else d for d in expected.as_list()]
        raise RequestError(f"{where}: shape {list(array.shape)} does not match the signature's {wanted}")
    return tf.constant(array, dtype=spec.dtype)


def parse_request(body: dict, specs: dict[str, tf.TensorSpec]) -> tuple[dict[str, tf.Tensor], str, int]:
    """(inputs by name, format "row" | "columnar", batch size) for a signature's input specs."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object with 'instances' or 'inputs'")
    if ("instances" in body) == ("inputs" in body):
        raise RequestError("give exactly one of 'instances' (row format) or 'inputs' (columnar format)")
    names = sorted(specs)
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError("'instances' must be a non-empty list")
        named = [isinstance(i, dict) and set(i) != {"b64"} for i in instances]  # {"b64": ..} is a value
        if len(names) == 1 and not any(named):
            columns = {names[0]: instances}  # bare values for a one-input signature
        else:
            for index, instance in enumerate(instances):
                if not isinstance(instance, dict) or set(instance) != set(names):
                    got = sorted(instance) if isinstance(instance, dict) else type(instance).__name__
                    raise RequestError(f"instances[{index}]: expected inputs {names}, got {got}")
            columns = {n: [i[n] for i in instances] for n in names}
        form = "row"
    else:
        inputs = body["inputs"]
        columns = inputs if isinstance(inputs, dict) and set(inputs) == set(names) else None
        if columns is None and len(names) == 1 and not isinstance(inputs, dict):
            columns = {names[0]: inputs}
        if columns is None:
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise RequestError(f"'inputs': expected inputs {names}, got {got}")
        form = "columnar"
    tensors = {n: to_tensor(columns[n], specs[n], f"input '{n}'") for n in names}
    sizes = {n: int(t.shape[0]) for n, t in tensors.items()}
    if len(set(sizes.values())) != 1:
        raise RequestError(f"inputs have different batch sizes: {sizes}")
    return tensors, form, next(iter(sizes.values()))


def _plain(array: np.ndarray):
    if array.dtype == object or array.dtype.kind == "S":
        return np.vectorize(lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else b, otypes=[object])(
            array
        ).tolist()
    return array.tolist()


def format_response(outputs: dict[str, tf.Tensor], form: str) -> dict:
    arrays = {k: np.asarray(v) for k, v in outputs.items()}
    if form == "columnar":
        if len(arrays) == 1:
            return {"outputs": _plain(next(iter(arrays.values())))}
        return {"outputs": {k: _plain(v) for k, v in arrays.items()}}
    batch = len(next(iter(arrays.values())))
    if len(arrays) == 1:
        return {"predictions": _plain(next(iter(arrays.values())))}
    columns = {k: _plain(v) for k, v in arrays.items()}
    return {"predictions": [{k: columns[k][i] for k in columns} for i in range(batch)]}
