import math

import numpy as np
import pytest
import tensorflow as tf
from harness import run_layer_test

from models.layers.conv_subsampling import TIME_REDUCTION, ConvSubsampling

RNG = np.random.default_rng(0)
FRAMES = RNG.normal(size=(2, 13, 5)).astype("float32")  # (B, T, mel bins)


def test_conv_subsampling_layer(tmp_path):
    run_layer_test(
        ConvSubsampling, {"filters": 8}, {"inputs": FRAMES}, (2, 7, 8), 4, tmp_path  # ceil(13 / 2) steps
    )


def test_conv_subsampling_lengths_match_its_output_steps():
    assert ConvSubsampling.output_lengths(tf.constant([1, 4, 5, 197])).numpy().tolist() == [1, 2, 3, 99]


@pytest.mark.parametrize("frames", [1, 2, 7, 8, 13])
@pytest.mark.parametrize("kernel_size", [3, 5])
def test_output_length_is_ceil_of_half_the_frames(frames, kernel_size):
    """The padding mask is cut with `output_lengths`, so the layer must emit exactly that many steps."""
    layer = ConvSubsampling(4, kernel_size=kernel_size)
    out = layer(tf.constant(RNG.normal(size=(1, frames, 5)).astype("float32")))
    expected = math.ceil(frames / TIME_REDUCTION)
    assert tuple(out.shape) == (1, expected, 4)
    assert layer.compute_output_shape((1, frames, 5)) == (1, expected, 4)
    assert int(ConvSubsampling.output_lengths(tf.constant([frames]))[0]) == expected


def test_output_shape_with_an_unknown_length():
    assert ConvSubsampling(4).compute_output_shape((None, None, 5)) == (None, None, 4)


def test_a_clip_reads_the_same_in_a_longer_batch():
    """Explicit zero padding keeps steps aligned whatever the padded length's parity:
    a 7-frame clip's steps that see only its own frames (all but the last) are the same
    alone and zero-padded to 8 or 11 frames, as in a batch cut to its longest clip."""
    layer = ConvSubsampling(4)
    clip = RNG.normal(size=(1, 7, 5)).astype("float32")
    alone = layer(tf.constant(clip)).numpy()  # (1, 4, 4)
    for length in (8, 11):
        padded = np.concatenate([clip, np.zeros((1, length - 7, 5), "float32")], axis=1)
        in_batch = layer(tf.constant(padded)).numpy()
        np.testing.assert_allclose(in_batch[:, :3], alone[:, :3], rtol=1e-5, atol=1e-6)
