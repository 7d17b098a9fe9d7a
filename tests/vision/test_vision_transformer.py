import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.image_blocks import AVERAGE_SPAN, STEPS_PER_EXECUTION
from models.layers import PatchEmbedding
from models.small_cnn import SmallCNNConfig, build_small_cnn, filters_sized_to, parameter_count
from models.vision_transformer import (
    Augmentation,
    VisionTransformerConfig,
    affine_transforms,
    augment_batches,
    build_vision_transformer,
    transform_images,
)

RNG = np.random.default_rng(0)
NONE = Augmentation(shift=0.0, rotation=0.0, scale=0.0, shear=0.0)
SHIFT_ONLY = Augmentation(shift=0.1, rotation=0.0, scale=0.0, shear=0.0)


@pytest.mark.parametrize("size, patch, patches", [((28, 28), 4, 49), ((28, 28), 7, 16), ((16, 32), 4, 32), ((12, 8), 4, 6)])
def test_patch_count_for_square_and_non_square_images(size, patch, patches):
    config = VisionTransformerConfig(size, 3, 5, patch_size=patch, model_dim=16, num_layers=1, num_heads=2, mlp_dim=16)
    assert config.num_patches == patches
    model = build_vision_transformer(config)
    assert tuple(model.get_layer("patch_embedding").output.shape) == (None, patches, 16)
    assert tuple(model.get_layer("class_token").output.shape) == (None, patches + 1, 16)
    probabilities = model(RNG.normal(size=(2, *size, 3)).astype("float32")).numpy()
    assert probabilities.shape == (2, 5)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("patch, pools, grid", [(4, 2, 7), (2, 1, 14), (7, 0, 4)])
def test_the_stem_pools_only_as_far_as_the_patch_size_halves(patch, pools, grid):
    """A token covers patch x patch pixels whatever the stem: it max-pools while patch_size halves
    evenly (at most once per layer), and the patch embedding cuts what remains."""
    config = VisionTransformerConfig((28, 28), 1, 10, patch_size=patch, stem=(4, 8), pooling="mean", model_dim=16,
                                     num_layers=1, num_heads=2, mlp_dim=16)  # fmt: skip
    assert config.stem_pools == pools
    model = build_vision_transformer(config)
    assert tuple(model.get_layer("patch_embedding").input.shape) == (None, 28 // 2**pools, 28 // 2**pools, 8)
    assert tuple(model.get_layer("patch_embedding").output.shape) == (None, grid * grid, 16)
    assert "class_token" not in [layer.name for layer in model.layers]
    assert tuple(model.get_layer("mean_token").output.shape) == (None, 16)


def test_an_unknown_pooling_is_named():
    with pytest.raises(ValueError, match=r"`model.pooling` .max. must be one of \['token', 'mean'\]"):
        build_vision_transformer(VisionTransformerConfig((28, 28), 1, 10, pooling="max"))


def test_indivisible_size_names_both_settings():
    with pytest.raises(ValueError, match=r"divisible by patch_size \(5\).*vision.image_size"):
        build_vision_transformer(VisionTransformerConfig((28, 28), 1, 10, patch_size=5))


def _tiny_vit(stem=(), pooling="token"):
    return build_vision_transformer(
        VisionTransformerConfig((8, 12), 1, 3, patch_size=4, stem=stem, pooling=pooling, model_dim=16, num_layers=2,
                                num_heads=2, mlp_dim=32, dropout=0.1, label_smoothing=0.1, decay_steps=10)  # fmt: skip
    )


@pytest.mark.slow
@pytest.mark.parametrize("stem, pooling", [((), "token"), ((4, 8), "mean")])
def test_vit_saves_and_reloads_with_identical_outputs(tmp_path, stem, pooling):
    model = _tiny_vit(stem, pooling)
    x = RNG.normal(size=(4, 8, 12, 1)).astype("float32")
    # One step to move the weights off their start and create the optimizer's state, run eagerly:
    # tracing AdamW's train step for one step cost ~10 s of CPU, and what is checked is saving
    # (run_eagerly is not in the saved compile config; the traced fit is test_vit_learns_...'s).
    model.run_eagerly = True
    model.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    path = str(tmp_path / "vit.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert np.allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    model.export(str(tmp_path / "saved"))  # a SavedModel, as the pipeline's export wraps it
    served = tf.saved_model.load(str(tmp_path / "saved"))
    assert np.allclose(served.serve(x).numpy(), model.predict(x, verbose=0), atol=1e-5)


def test_augmentation_shifts_training_batches_and_keeps_labels():
    x = RNG.normal(size=(4, 8, 12, 1)).astype("float32")
    y = np.arange(4)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    shifted, labels = next(iter(augment_batches(dataset, Augmentation(shift=0.25), seed=1)))  # default rotation, scale
    assert shifted.shape == x.shape and np.array_equal(labels.numpy(), y)
    assert not np.allclose(shifted.numpy(), x)
    unchanged, _ = next(iter(augment_batches(dataset, NONE, seed=1)))
    assert np.array_equal(unchanged.numpy(), x)


def _centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(B, H, W, 1) -> (B, 2): the (row, column) centre of each image's pixel mass."""
    rows, cols = np.mgrid[: images.shape[1], : images.shape[2]]
    mass = images[..., 0].sum(axis=(1, 2))
    return np.stack([(images[..., 0] * rows).sum(axis=(1, 2)), (images[..., 0] * cols).sum(axis=(1, 2))], 1) / mass[:, None]


def test_augmentation_moves_each_image_within_the_shift_and_redraws_every_epoch():
    """A bright square on a dark background (the edge pixels repeated when shifted are dark):
    each image's centre moves by at most `shift` of its size, the images of a batch move
    differently, a new pass draws new shifts, and the same seed draws the same ones."""
    x = np.zeros((16, 20, 20, 1), "float32")
    x[:, 8:12, 8:12] = 1.0  # centre (9.5, 9.5)
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(16))).batch(16)
    augmented = augment_batches(dataset, SHIFT_ONLY, seed=3)
    first, second = (next(iter(augmented))[0].numpy() for _ in range(2))
    moved = _centre_of_mass(first) - 9.5  # (16, 2) in pixels
    assert np.abs(moved).max() <= 0.1 * 20 + 1e-3
    assert np.std(moved[:, 0]) > 0.2 and np.std(moved[:, 1]) > 0.2  # per image, in both directions
    assert not np.allclose(first, second)  # redrawn every epoch
    again = next(iter(augment_batches(dataset, SHIFT_ONLY, seed=3)))[0].numpy()
    assert np.allclose(again, first)  # seeded


def _transformed(images: np.ndarray, draws, **ranges) -> np.ndarray:
    """images (B, H, W, 1) moved by `affine_transforms` of the same draws (5,) for every image."""
    draws = tf.constant([draws] * len(images), tf.float32)  # (B, 5)
    transforms = affine_transforms(draws, Augmentation(**ranges), images.shape[1], images.shape[2])
    return transform_images(tf.constant(images), transforms).numpy()


def test_a_full_rotation_draw_turns_the_image_about_its_centre():
    """A draw of 1 on the rotation with a 90-degree range is a quarter turn clockwise (as shown, y
    down): exactly numpy's rot90, pixel for pixel, on a non-symmetric pattern of even and odd sizes."""
    for size in (6, 7):
        images = RNG.normal(size=(2, size, size, 1)).astype("float32")
        turned = _transformed(images, [0, 0, 1, 0, 0], rotation=90.0)
        assert np.allclose(turned, np.rot90(images, k=-1, axes=(1, 2)), atol=1e-5)
        back = _transformed(images, [0, 0, -1, 0, 0], rotation=90.0)
        assert np.allclose(back, np.rot90(images, k=1, axes=(1, 2)), atol=1e-5)


def test_a_scale_draw_zooms_about_the_centre():
    """A 4x4 bright square in the middle of a 20x20 image, zoomed by 1.5: its centre stays, its
    mass (bilinear) grows by 1.5 squared, and its side reaches 6 pixels; zoom 0.5 halves the side."""
    x = np.zeros((1, 20, 20, 1), "float32")
    x[:, 8:12, 8:12] = 1.0  # centre (9.5, 9.5), mass 16
    larger = _transformed(x, [0, 0, 0, 1, 0], scale=0.5)
    assert np.allclose(_centre_of_mass(larger), 9.5, atol=1e-4)
    assert larger.sum() == pytest.approx(16 * 1.5**2, rel=0.05)
    assert larger[0, 7:13, 7:13, 0].min() > 0.6 and larger[0, 8:12, 8:12, 0].min() == pytest.approx(1.0)  # 6 px wide
    assert larger[0, 5, :, 0].max() == 0.0 and larger[0, :, 14, 0].max() == 0.0  # and no wider than 8 (bilinear)
    smaller = _transformed(x, [0, 0, 0, -1, 0], scale=0.5)
    assert smaller.sum() == pytest.approx(16 * 0.5**2, rel=0.1)
    assert np.allclose(_centre_of_mass(smaller), 9.5, atol=1e-4)


def test_a_shear_draw_slants_columns_and_keeps_the_centre_row():
    """A vertical stroke sheared by 45 degrees (x += y - centre): each row's stroke moves by its
    distance from the centre row, so the stroke becomes a diagonal."""
    x = np.zeros((1, 9, 9, 1), "float32")
    x[:, :, 4] = 1.0  # column 4, the centre column
    sheared = _transformed(x, [0, 0, 0, 0, 1], shear=45.0)
    for row in range(2, 7):
        assert sheared[0, row, :, 0].argmax() == 4 + (row - 4)
        assert sheared[0, row, 4 + (row - 4), 0] == pytest.approx(1.0, abs=1e-4)


def test_the_identity_draws_leave_images_unchanged_and_shift_moves_by_whole_pixels():
    images = RNG.normal(size=(3, 8, 10, 1)).astype("float32")
    ranges = {"shift": 0.2, "rotation": 15.0, "scale": 0.1, "shear": 10.0}
    assert np.allclose(_transformed(images, [0, 0, 0, 0, 0], **ranges), images, atol=1e-5)  # no rotation, zoom 1
    moved = _transformed(images, [0.5, 0.625, 0, 0, 0], shift=0.2)  # dx 0.5 * 0.2 * 10 = 1, dy 0.625 * 0.2 * 8 = 1
    assert np.allclose(moved[:, 1:, 1:], images[:, :-1, :-1], atol=1e-5)


def test_affine_augmentation_is_seeded_varied_and_keeps_labels():
    """Every range on: the same seed gives the same batch twice, a new epoch new draws, each image
    its own transform, labels untouched; each image's mass stays near its place (small ranges)."""
    x = np.zeros((16, 20, 20, 1), "float32")
    x[:, 6:14, 9:11] = 1.0  # a vertical bar through the centre (9.5, 9.5)
    dataset = tf.data.Dataset.from_tensor_slices((x, np.arange(16))).batch(16)
    options = Augmentation(shift=0.05, rotation=15.0, scale=0.1, shear=10.0)
    augmented = augment_batches(dataset, options, seed=5)
    first, second = (next(iter(augmented)) for _ in range(2))
    again = next(iter(augment_batches(dataset, options, seed=5)))
    assert np.allclose(first[0].numpy(), again[0].numpy())
    assert not np.allclose(first[0].numpy(), second[0].numpy())
    assert np.array_equal(first[1].numpy(), np.arange(16))
    images = first[0].numpy()
    assert min(np.abs(images[i] - images[j]).max() for i in range(16) for j in range(i)) > 0.05
    assert np.abs(_centre_of_mass(images) - 9.5).max() <= 0.05 * 20 + 0.5
    assert augment_batches(dataset, NONE, seed=5) is dataset  # nothing on: untouched


@pytest.mark.parametrize("ranges, message", [({"scale": 1.0}, "model.scale"), ({"rotation": -5.0}, ">= 0"),
                                             ({"shear": 90.0}, "model.shear")])  # fmt: skip
def test_impossible_augmentation_ranges_are_named(ranges, message):
    dataset = tf.data.Dataset.from_tensor_slices((np.zeros((2, 4, 4, 1), "float32"), np.zeros(2))).batch(2)
    with pytest.raises(ValueError, match=message):
        augment_batches(dataset, Augmentation(**ranges), seed=0)


def test_steps_per_execution_reaches_the_compiled_model():
    config = VisionTransformerConfig((8, 8), 1, 2, patch_size=4, model_dim=8, num_layers=1, num_heads=2,
                                     mlp_dim=8, steps_per_execution=5)  # fmt: skip
    assert build_vision_transformer(config).steps_per_execution == 5
    with pytest.raises(ValueError, match="steps_per_execution"):
        build_vision_transformer(dataclasses.replace(config, steps_per_execution=0))
    # The bench's small CNN is dispatched as the ViT is, so that it compares the models.
    cnn = build_small_cnn(SmallCNNConfig((8, 8), 1, 4, filters=(8, 8), decay_steps=10))
    assert cnn.steps_per_execution == VisionTransformerConfig((8, 8), 1, 2).steps_per_execution == STEPS_PER_EXECUTION > 1


def test_the_weight_average_reaches_the_optimizer_and_a_bad_momentum_names_the_key():
    config = VisionTransformerConfig((8, 8), 1, 2, patch_size=4, model_dim=8, num_layers=1, num_heads=2, mlp_dim=8)
    assert not build_vision_transformer(config).optimizer.use_ema
    averaged = build_vision_transformer(dataclasses.replace(config, ema_momentum=0.99, decay_steps=1260)).optimizer
    assert averaged.use_ema and averaged.ema_momentum == pytest.approx(0.99)
    short = build_vision_transformer(dataclasses.replace(config, ema_momentum=0.99, decay_steps=63)).optimizer
    assert short.use_ema and short.ema_momentum == pytest.approx(1 - 1 / (AVERAGE_SPAN * 63))  # a fifth of 63 steps
    assert not build_vision_transformer(dataclasses.replace(config, ema_momentum=0.99, decay_steps=4)).optimizer.use_ema
    cnn = build_small_cnn(SmallCNNConfig((8, 8), 1, 4, filters=(8, 8), ema_momentum=0.99, decay_steps=1260))
    assert cnn.optimizer.use_ema  # the bench's CNN gets the ViT's recipe
    with pytest.raises(ValueError, match=r"model.ema: 1.5\) must be in \[0, 1\)"):
        build_vision_transformer(dataclasses.replace(config, ema_momentum=1.5))


@pytest.mark.slow
def test_vit_learns_a_pattern_a_linear_model_cannot():
    """Horizontal vs vertical full-length strokes at random positions: no linear function of the
    pixels separates them (both classes cover the same pixels on average); attention over patches does."""
    images, labels = stroke_images(np.random.default_rng(1), 200, size=8)
    model = build_vision_transformer(
        VisionTransformerConfig((8, 8), 1, 2, patch_size=4, model_dim=16, num_layers=1, num_heads=2, mlp_dim=32,
                                learning_rate=3e-3, decay_steps=300)  # fmt: skip
    )
    model.fit(images[:160], labels[:160], epochs=15, batch_size=16, verbose=0)
    accuracy = float((model.predict(images[160:], verbose=0).argmax(-1) == labels[160:]).mean())
    assert accuracy >= 0.9


def stroke_images(rng, count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, 2, count)
    images = rng.normal(0.0, 0.1, (count, size, size, 1)).astype("float32")
    for image, label, where in zip(images, labels, rng.integers(0, size, count), strict=True):
        if label:
            image[:, where] += 1.0
        else:
            image[where, :] += 1.0
    return images, labels


@pytest.mark.slow
def test_the_stems_batch_statistics_settle_within_a_short_tuner_budget():
    """After 32 steps the stem's moving mean is the data's (a Tuner trial of a few epochs
    is ranked on inference-mode eval accuracy, which uses it). The learning rate is ~0, so
    the convolution, and the mean it should track, stay fixed. Keras's default momentum
    0.99 would still be 72 % short of it here."""
    config = VisionTransformerConfig((8, 8), 1, 2, patch_size=4, stem=(4,), pooling="mean", model_dim=8,
                                     num_layers=1, num_heads=2, mlp_dim=8, learning_rate=1e-9)  # fmt: skip
    model = build_vision_transformer(config)
    images = RNG.normal(3.0, 1.0, size=(512, 8, 8, 1)).astype("float32")  # far from the statistics' start
    model.fit(images, RNG.integers(0, 2, size=512), batch_size=16, epochs=1, shuffle=False, verbose=0)
    conv = keras.Model(model.inputs, model.get_layer("stem_0").output)
    expected = conv.predict(images, verbose=0).mean(axis=(0, 1, 2))  # (4,) per channel
    moving = model.get_layer("stem_0_norm").moving_mean.numpy()
    assert np.abs(moving - expected).max() <= 0.1 * np.abs(expected).max()


def test_small_cnn_classifies():
    model = build_small_cnn(SmallCNNConfig((8, 8), 1, 4, filters=(8, 8), decay_steps=10))
    assert model(RNG.normal(size=(2, 8, 8, 1)).astype("float32")).shape == (2, 4)


@pytest.mark.parametrize("filters, channels", [((8, 16), 1), ((32, 64, 128, 128), 3)])
def test_the_small_cnns_parameter_count_is_what_keras_counts(filters, channels):
    model = build_small_cnn(SmallCNNConfig((8, 8), channels, 4, filters=filters))
    assert parameter_count(filters, channels, 4) == model.count_params()


def test_the_small_cnn_is_sized_to_a_target_parameter_count():
    assert filters_sized_to(parameter_count((32, 64, 128, 128), 1, 10), 1, 10) == (32, 64, 128, 128)
    bigger = filters_sized_to(400_000, 1, 10)
    assert bigger[0] > 32 and all(width % 8 == 0 for width in bigger)
    assert abs(parameter_count(bigger, 1, 10) - 400_000) < 0.05 * 400_000


def test_patch_embedding_counts_patches_of_a_non_square_image():
    assert PatchEmbedding(4, 8)(RNG.normal(size=(1, 8, 20, 3)).astype("float32")).shape == (1, 10, 8)
