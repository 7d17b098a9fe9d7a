import numpy as np
import pytest
from harness import run_layer_test

from models.layers import PositionalEncoding, PositionEmbedding, TokenAndPositionEmbedding

X = np.random.default_rng(0).normal(size=(2, 4, 8)).astype("float32")
IDS = np.array([[3, 1, 2, 0], [4, 5, 0, 0]], dtype="int32")


def test_positional_encoding_layer(tmp_path):
    run_layer_test(
        PositionalEncoding, {"max_length": 6}, {"inputs": X}, (2, 4, 8), 0, tmp_path
    )


def test_positional_encoding_values():
    out = PositionalEncoding(max_length=6)(np.zeros((1, 4, 8), "float32")).numpy()[0]
    np.testing.assert_allclose(out[:, 0], np.sin(np.arange(4)), atol=1e-6)  # channel 0: sin(pos)
    np.testing.assert_allclose(out[:, 1], np.cos(np.arange(4)), atol=1e-6)  # channel 1: cos(pos)


def test_position_embedding_layer(tmp_path):
    run_layer_test(
        PositionEmbedding, {"max_length": 6}, {"inputs": X}, (2, 4, 8), 1, tmp_path
    )


@pytest.mark.parametrize("cls", [PositionalEncoding, PositionEmbedding])
def test_too_long_input_names_the_fix(cls):
    with pytest.raises(ValueError, match="raise `max_length` to at least 4"):
        cls(max_length=3)(X)


def test_token_and_position_embedding_layer(tmp_path):
    run_layer_test(
        TokenAndPositionEmbedding,
        {"vocabulary_size": 6, "max_length": 5, "embedding_dim": 8},
        {"inputs": IDS},
        (2, 4, 8),
        2,
        tmp_path,
    )


def test_token_and_position_embedding_mask():
    layer = TokenAndPositionEmbedding(6, 5, 8)
    np.testing.assert_array_equal(layer.compute_mask(IDS).numpy(), IDS != 0)
    assert TokenAndPositionEmbedding(6, 5, 8, mask_zero=False).compute_mask(IDS) is None
