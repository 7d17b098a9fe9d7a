import numpy as np
import pytest
from harness import assert_future_is_hidden, assert_padding_is_hidden, run_layer_test

from models.layers import TransformerBlock

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 8)).astype("float32")
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype="bool")

# Weights: attention 8 (q, k, v, out kernels + biases), 2 LayerNorms 4, 2 Dense 4.
BLOCK_WEIGHTS = 16


@pytest.mark.parametrize(
    "norm_first, causal", [(False, False), (True, True)], ids=["post_norm", "pre_norm_causal"]
)
@pytest.mark.slow
def test_transformer_block(tmp_path, norm_first, causal):
    run_layer_test(
        TransformerBlock,
        {
            "num_heads": 2,
            "intermediate_dim": 16,
            "dropout": 0.1,
            "norm_first": norm_first,
            "causal": causal,
            "activation": "gelu",
        },
        {"x": X, "padding_mask": MASK},
        (2, 4, 8),
        BLOCK_WEIGHTS,
        tmp_path,
    )


def test_indivisible_width_says_what_to_change():
    with pytest.raises(ValueError, match=r"`hidden_dim` \(8\) must be divisible by `num_heads` \(3\)"):
        TransformerBlock(num_heads=3, intermediate_dim=4)(X)


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_block_hides_the_future(norm_first):
    block = TransformerBlock(2, 16, norm_first=norm_first, causal=True)
    assert_future_is_hidden(lambda x: block(x).numpy(), X)


def test_padding_is_hidden():
    block = TransformerBlock(2, 16)
    assert_padding_is_hidden(lambda x: block(x, padding_mask=MASK).numpy(), X, MASK)
