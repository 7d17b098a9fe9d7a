"""The text classifier: shapes, padding does not change outputs, a fit step runs."""
import keras
import numpy as np
import pytest

from models.text_classifier import TextClassifierConfig, build_text_classifier

CONFIG = TextClassifierConfig(vocabulary_size=20, max_length=12, num_classes=3, num_layers=2, num_heads=2, model_dim=8, intermediate_dim=16)


def test_probabilities_shape_and_sum():
    model = build_text_classifier(CONFIG)
    ids = np.array([[5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]])
    probabilities = np.asarray(model(ids, training=False))
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def test_outputs_do_not_depend_on_padding():
    """The same 4 tokens padded to 12 and to 6 (then to 12 with a different model input) agree:
    what the padding positions hold never reaches the real tokens or the pooled vector."""
    keras.utils.set_random_seed(0)
    model = build_text_classifier(CONFIG)
    tokens = [4, 9, 3, 17]
    padded = np.array([tokens + [0] * 8])
    # Same model weights, shorter sequence: a model built for max_length 6 sharing the weights.
    short = build_text_classifier(TextClassifierConfig(**{**CONFIG.__dict__, "max_length": 6}))
    short.set_weights([w[:6] if w.shape == (12, 8) else w for w in model.get_weights()])
    a = np.asarray(model(padded, training=False))
    b = np.asarray(short(np.array([tokens + [0] * 2]), training=False))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fully_masked_row_is_finite():
    model = build_text_classifier(CONFIG)
    assert np.isfinite(np.asarray(model(np.zeros((1, 12), "int64"), training=False))).all()


@pytest.mark.slow
def test_fit_step_and_validation():
    model = build_text_classifier(CONFIG)
    x = np.random.RandomState(0).randint(0, 20, (8, 12))
    history = model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(ValueError, match="divisible"):
        build_text_classifier(TextClassifierConfig(vocabulary_size=5, max_length=4, num_classes=2, model_dim=6, num_heads=4))


@pytest.mark.slow
def test_over_a_prior_the_untrained_model_is_the_prior():
    """The residual head starts at zero: before training, the prior's softmax comes out."""
    import numpy as np

    model = build_text_classifier(TextClassifierConfig(**{**CONFIG.__dict__, "prior": True}))
    ids = np.random.default_rng(0).integers(0, 20, size=(4, 12))
    prior = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    expected = np.exp(prior) / np.exp(prior).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model([ids, prior]), expected, atol=1e-6)
    labels = np.array([0, 1, 2, 0])
    model.run_eagerly = True  # three steps: cheaper than tracing them (the traced fit is test_fit_step_and_validation's)
    history = model.fit([ids, prior], labels, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]  # and it does learn
