"""What our TFMA metrics read from an example's extracts, for every task."""
from __future__ import annotations

from tensorflow_model_analysis.metrics import metric_types


def model_outputs(element: metric_types.StandardMetricInputs, model_name: str) -> dict:
    """The model's output dict (every output of the signature, not only the prediction key);
    with a baseline model, TFMA keys predictions by model name."""
    outputs = element.predictions
    if model_name and isinstance(outputs, dict) and isinstance(outputs.get(model_name), dict):
        outputs = outputs[model_name]
    return outputs if isinstance(outputs, dict) else {}
