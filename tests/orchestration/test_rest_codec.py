"""TF Serving's REST formats to tensors and back; every malformed request is a RequestError with a reason."""
import base64

import pytest
import tensorflow as tf

from pipeline import deploy
from pipeline.config import load_config
from pipeline.profile import load_profile
from serving import rest_codec

WINDOW = {"temperature": tf.TensorSpec([None, 3], tf.float32, name="temperature")}
TEXT = {"text": tf.TensorSpec([None], tf.string, name="text")}
EXAMPLES = {"examples": tf.TensorSpec([None], tf.string, name="examples")}


def test_row_and_columnar_formats_give_the_same_tensors():
    rows, form, size = rest_codec.parse_request({"instances": [{"temperature": [1, 2, 3]}, {"temperature": [4, 5, 6]}]}, WINDOW)
    columns, form2, _ = rest_codec.parse_request({"inputs": {"temperature": [[1, 2, 3], [4, 5, 6]]}}, WINDOW)
    assert (form, form2, size) == ("row", "columnar", 2)
    assert rows["temperature"].numpy().tolist() == columns["temperature"].numpy().tolist()
    bare, _, _ = rest_codec.parse_request({"instances": ["a film", "another"]}, TEXT)  # one input: bare values
    assert bare["text"].numpy().tolist() == [b"a film", b"another"]


def test_b64_values_are_decoded_for_the_example_signature():
    raw = tf.train.Example().SerializeToString() + b"\x00\xff"
    parsed, _, _ = rest_codec.parse_request({"instances": [{"b64": base64.b64encode(raw).decode()}]}, EXAMPLES)
    assert parsed["examples"].numpy().tolist() == [raw]


@pytest.mark.parametrize("body, specs, words", [
    ([1], WINDOW, "JSON object"),
    ({"instances": [], "inputs": {}}, WINDOW, "exactly one of"),
    ({"instances": [{"temperature": [1, 2]}]}, WINDOW, "shape [1, 2] does not match the signature's ['batch', 3]"),
    ({"instances": [{"temperature": ["a", "b", "c"]}]}, WINDOW, "expected a number"),
    ({"instances": [{"temp": [1, 2, 3]}]}, WINDOW, "expected inputs ['temperature'], got ['temp']"),
    ({"instances": [{"b64": "***"}]}, EXAMPLES, "invalid base64"),
    ({"instances": [{"b64": "AA=="}]}, WINDOW, "b64 given for an input of type float32"),
    ({"inputs": {"text": [1]}}, TEXT, "expected a string"),
])  # fmt: skip
def test_malformed_requests_say_what_is_wrong(body, specs, words):
    with pytest.raises(rest_codec.RequestError, match=None) as error:
        rest_codec.parse_request(body, specs)
    assert words in str(error.value)


def test_responses_in_both_formats():
    outputs = {"label": tf.constant([b"fresh", b"rotten"]), "p": tf.constant([[0.9, 0.1], [0.2, 0.8]])}
    rows = rest_codec.format_response(outputs, "row")["predictions"]
    assert rows[0]["label"] == "fresh" and rows[1]["p"] == pytest.approx([0.2, 0.8])
    assert rest_codec.format_response(outputs, "columnar")["outputs"]["label"] == ["fresh", "rotten"]
    assert rest_codec.format_response({"y": tf.constant([1.0])}, "row") == {"predictions": [1.0]}


def test_the_vertex_deploy_requests_come_from_the_profile():
    config = load_config("text")
    profile = load_profile("vertex", ["vertex.project=p1", "deploy.machine_type=n1-standard-4"])
    requests = deploy.build_requests(config, profile, "17")
    assert "/projects/p1/locations/" in requests["upload"]["url"]
    assert requests["upload"]["body"]["model"]["artifactUri"].endswith("/text/serving/17")
    assert requests["upload"]["body"]["model"]["containerSpec"]["imageUri"] == deploy.PREBUILT_TF_IMAGE
    resources = requests["deploy"]["body"]["deployedModel"]["dedicatedResources"]
    assert resources["machineSpec"]["machineType"] == "n1-standard-4"
    with pytest.raises(ValueError, match="needs a vertex profile"):
        deploy.build_requests(config, load_profile("kubeflow"), "17")
