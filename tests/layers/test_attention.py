import keras
import numpy as np
import pytest
from harness import run_layer_test

from models.layers import MultiHeadAttention

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 4, 8)).astype("float32")
V = RNG.normal(size=(2, 5, 6)).astype("float32")
# Padding on the value side: batch 0 has 5 real positions, batch 1 has 3.
VALUE_MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype="bool")


@pytest.mark.slow
def test_layer(tmp_path):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3, "dropout": 0.1},
        {"query": Q, "value": V},
        (2, 4, 8),
        8,
        tmp_path,
    )


def test_layer_with_masks_and_output_shape(tmp_path):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3, "value_dim": 2, "output_shape": 5, "use_bias": False},
        {"query": Q, "value": V, "value_mask": VALUE_MASK},
        (2, 4, 5),
        4,
        tmp_path,
        call_kwargs={"use_causal_mask": True},
    )


def _pair(query_dim=8, value_dim=6):
    """Our layer and keras's, built on the same shapes and holding the same weights."""
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    reference.build((2, 4, query_dim), (2, 5, value_dim))
    custom = MultiHeadAttention(num_heads=2, key_dim=3)
    custom.build((2, 4, query_dim), (2, 5, value_dim))
    assert [w.shape for w in custom.weights] == [w.shape for w in reference.weights]
    custom.set_weights(reference.get_weights())
    return custom, reference


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"attention_mask": np.broadcast_to(VALUE_MASK[:, None, :], (2, 4, 5))},
        {"use_causal_mask": True},
        {
            "attention_mask": np.broadcast_to(VALUE_MASK[:, None, :], (2, 4, 5)),
            "use_causal_mask": True,
        },
    ],
    ids=["no_mask", "padding_mask", "causal", "padding_and_causal"],
)
def test_matches_keras_multi_head_attention(kwargs):
    custom, reference = _pair()
    out, scores = custom(Q, V, return_attention_scores=True, **kwargs)
    ref_out, ref_scores = reference(Q, V, return_attention_scores=True, **kwargs)
    assert scores.shape == (2, 2, 4, 5)
    np.testing.assert_allclose(out.numpy(), ref_out.numpy(), atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_scores.numpy(), atol=1e-5)
    # keras takes its fused path when scores are not requested; outputs still agree.
    np.testing.assert_allclose(
        custom(Q, V, **kwargs).numpy(), reference(Q, V, **kwargs).numpy(), atol=1e-5
    )


def test_value_mask_equals_attention_mask():
    custom, _ = _pair()
    by_attention_mask = custom(Q, V, attention_mask=np.broadcast_to(VALUE_MASK[:, None], (2, 4, 5)))
    by_value_mask = custom(Q, V, value_mask=VALUE_MASK)
    np.testing.assert_allclose(by_attention_mask.numpy(), by_value_mask.numpy(), atol=1e-6)


def test_causal_mask_hides_the_future():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = RNG.normal(size=(2, 6, 8)).astype("float32")
    before = layer(x, x, use_causal_mask=True).numpy()
    for t in range(6):
        changed = x.copy()
        changed[:, t] += 10.0
        after = layer(changed, changed, use_causal_mask=True).numpy()
        np.testing.assert_allclose(after[:, :t], before[:, :t], atol=1e-5)
        assert not np.allclose(after[:, t], before[:, t])


def test_padding_mask_hides_padded_values():
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    before = layer(Q, V, value_mask=VALUE_MASK).numpy()
    changed = V.copy()
    changed[~VALUE_MASK] = 100.0
    after = layer(Q, changed, value_mask=VALUE_MASK).numpy()
    np.testing.assert_allclose(after, before, atol=1e-5)


def test_bad_arguments_say_what_to_change():
    with pytest.raises(ValueError, match="`num_heads` \\(0\\)"):
        MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="`dropout`"):
        MultiHeadAttention(num_heads=2, key_dim=2, dropout=1.5)
