import numpy as np
import tensorflow as tf
from harness import run_layer_test

from models.layers import ClassToken

RNG = np.random.default_rng(0)
PATCHES = RNG.normal(size=(2, 5, 8)).astype("float32")


def test_class_token_layer(tmp_path):
    run_layer_test(ClassToken, {}, {"inputs": PATCHES}, (2, 6, 8), 1, tmp_path)


def test_prepends_one_token_and_keeps_the_sequence():
    """(B, N, D) -> (B, 1 + N, D); the token starts at zero, as in the ViT paper's code."""
    out = ClassToken()(tf.constant(PATCHES)).numpy()
    assert out.shape == (2, 6, 8)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_array_equal(out[:, 1:], PATCHES)


def test_class_token_is_the_same_learned_vector_in_front_of_every_sequence():
    layer = ClassToken()
    layer(tf.constant(RNG.normal(size=(3, 4, 6)).astype("float32")))  # builds the (1, 1, 6) token
    layer.token.assign(np.arange(6, dtype="float32").reshape(1, 1, 6))
    out = layer(tf.constant(RNG.normal(size=(3, 4, 6)).astype("float32"))).numpy()
    assert np.allclose(out[:, 0], np.arange(6))


def test_output_shape_with_an_unknown_length():
    assert ClassToken().compute_output_shape((None, None, 8)) == (None, None, 8)
    assert ClassToken().compute_output_shape((None, 5, 8)) == (None, 6, 8)
