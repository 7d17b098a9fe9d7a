"""Elastic distortion (models/elastic.py): the sampler, the smoothed field, and its place in the
training augmentation."""
import numpy as np
import pytest
import tensorflow as tf

from models import elastic
from models.vision_transformer import Augmentation, augment_batches

RNG = np.random.default_rng(0)


def _moves(batch, height, width, dx, dy):
    return tf.constant(np.broadcast_to(np.float32([dx, dy]), (batch, height, width, 2)))


def test_no_move_is_the_identity_and_a_whole_pixel_move_shifts_with_the_edge_repeated():
    images = RNG.normal(size=(2, 6, 7, 3)).astype("float32")
    assert np.allclose(elastic.warp(tf.constant(images), _moves(2, 6, 7, 0, 0)).numpy(), images)
    moved = elastic.warp(tf.constant(images), _moves(2, 6, 7, 1, -1)).numpy()  # reads (y - 1, x + 1)
    assert np.allclose(moved[:, 1:, :-1], images[:, :-1, 1:])
    assert np.allclose(moved[:, 0, :-1], images[:, 0, 1:])  # above the image: its first row
    assert np.allclose(moved[:, 1:, -1], images[:, :-1, -1])  # right of it: its last column


def test_a_half_pixel_move_interpolates_between_neighbours():
    images = RNG.normal(size=(1, 4, 5, 1)).astype("float32")
    moved = elastic.warp(tf.constant(images), _moves(1, 4, 5, 0.5, 0)).numpy()
    assert np.allclose(moved[:, :, :-1], (images[:, :, :-1] + images[:, :, 1:]) / 2, atol=1e-6)


def test_the_field_is_a_normalised_blur_of_the_noise_times_alpha():
    kernel = elastic.gaussian_kernel(2.0).numpy()
    assert kernel.shape == (17,) and np.isclose(kernel.sum(), 1.0) and np.allclose(kernel, kernel[::-1])
    assert kernel.argmax() == 8
    ones = tf.ones((1, 40, 40, 2))
    field = elastic.displacements(ones, alpha=3.0, sigma=2.0).numpy()
    assert np.allclose(field[0, 20, 20], 3.0, atol=1e-4)  # far from the edges: alpha times the mean, 1
    assert field[0, 0, 0, 0] < 2.0  # at a corner, the zeros beyond the image pull it down
    noise = tf.random.stateless_uniform((4, 28, 28, 2), (1, 2), -1.0, 1.0)
    rough, smooth = (elastic.displacements(noise, 1.0, sigma).numpy() for sigma in (1.0, 4.0))
    step = lambda f: np.abs(np.diff(f, axis=1)).mean() / np.abs(f).mean()  # noqa: E731
    assert step(smooth) < step(rough) / 2  # a wider blur: neighbours move together


@pytest.mark.slow  # four input pipelines traced with the elastic step: about 2 s alone
def test_elastic_augmentation_is_seeded_keeps_the_affine_draws_and_moves_strokes_a_few_pixels():
    x = np.zeros((8, 28, 28, 1), "float32")
    x[:, 4:24, 13:15] = 1.0  # a vertical stroke
    dataset = tf.data.Dataset.from_tensor_slices((x, np.arange(8))).batch(8)
    elastic_only = Augmentation(shift=0, rotation=0, scale=0, elastic=34.0)
    first, again = (next(iter(augment_batches(dataset, elastic_only, seed=3))) for _ in range(2))  # two pipelines
    assert np.allclose(first[0].numpy(), again[0].numpy()) and np.array_equal(first[1].numpy(), np.arange(8))
    images = first[0].numpy()
    assert np.abs(images - x).max() > 0.5  # strokes moved
    mass = images.sum(axis=(1, 2, 3)) / x[0].sum()  # (8,): the field stretches and squeezes, not area-preserving
    assert np.all((0.5 < mass) & (mass < 2.0)) and images.max(axis=(1, 2, 3)).min() > 0.9  # bent, not erased
    affine = Augmentation(shift=0.1, rotation=10.0, scale=0.1)
    with_elastic = Augmentation(shift=0.1, rotation=10.0, scale=0.1, elastic=0.0001)
    a, b = (next(iter(augment_batches(dataset, o, seed=3)))[0].numpy() for o in (affine, with_elastic))
    assert np.allclose(a, b, atol=1e-3)  # the affine draws do not change when the elastic step is added


@pytest.mark.parametrize("ranges, message", [({"elastic": -1.0}, ">= 0"), ({"elastic_sigma": 0.0}, "model.elastic_sigma")])
def test_impossible_elastic_settings_are_named(ranges, message):
    with pytest.raises(ValueError, match=message):
        Augmentation(**ranges).validate()
