import numpy as np
import pytest
from harness import run_layer_test

from models.layers import Decoder, DecoderLayer, Encoder, EncoderLayer, TransformerBlock

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 8)).astype("float32")
ENC = RNG.normal(size=(2, 5, 6)).astype("float32")
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype="bool")
ENC_MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype="bool")

# Weights: attention 8 (q, k, v, out kernels + biases), 2 LayerNorms 4, 2 Dense 4.
BLOCK_WEIGHTS = 16
# Decoder layer: two attentions 16, three LayerNorms 6, 2 Dense 4.
DECODER_LAYER_WEIGHTS = 26


@pytest.mark.parametrize(
    "norm_first, causal", [(False, False), (True, True)], ids=["post_norm", "pre_norm_causal"]
)
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


def test_encoder_layer(tmp_path):
    run_layer_test(
        EncoderLayer,
        {"num_heads": 2, "intermediate_dim": 16},
        {"x": X, "padding_mask": MASK},
        (2, 4, 8),
        BLOCK_WEIGHTS,
        tmp_path,
    )


def test_encoder(tmp_path):
    run_layer_test(
        Encoder,
        {"num_layers": 2, "num_heads": 2, "intermediate_dim": 16, "norm_first": True},
        {"x": X, "padding_mask": MASK},
        (2, 4, 8),
        2 * BLOCK_WEIGHTS + 2,  # + the final LayerNorm of a pre-norm stack
        tmp_path,
    )


def test_decoder_layer(tmp_path):
    run_layer_test(
        DecoderLayer,
        {"num_heads": 2, "intermediate_dim": 16, "dropout": 0.1},
        {
            "x": X,
            "encoder_output": ENC,
            "decoder_padding_mask": MASK,
            "encoder_padding_mask": ENC_MASK,
        },
        (2, 4, 8),
        DECODER_LAYER_WEIGHTS,
        tmp_path,
    )


def test_decoder(tmp_path):
    run_layer_test(
        Decoder,
        {"num_layers": 2, "num_heads": 2, "intermediate_dim": 16},
        {"x": X, "encoder_output": ENC},
        (2, 4, 8),
        2 * DECODER_LAYER_WEIGHTS,
        tmp_path,
    )


def test_indivisible_width_says_what_to_change():
    with pytest.raises(ValueError, match=r"`hidden_dim` \(8\) must be divisible by `num_heads` \(3\)"):
        TransformerBlock(num_heads=3, intermediate_dim=4)(X)


def _assert_future_is_hidden(run, x):
    """Perturbing position t leaves outputs at positions < t unchanged."""
    before = run(x)
    for t in range(1, x.shape[1]):
        changed = x.copy()
        changed[:, t] += 5.0
        np.testing.assert_allclose(run(changed)[:, :t], before[:, :t], atol=1e-5)


def _assert_padding_is_hidden(run, x, mask):
    """Changing padded positions leaves outputs at real positions unchanged."""
    before = run(x)
    changed = x.copy()
    changed[~mask] = 100.0
    np.testing.assert_allclose(run(changed)[mask], before[mask], atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_block_hides_the_future(norm_first):
    block = TransformerBlock(2, 16, norm_first=norm_first, causal=True)
    _assert_future_is_hidden(lambda x: block(x).numpy(), X)


def test_decoder_self_attention_hides_the_future():
    layer = DecoderLayer(2, 16)
    _assert_future_is_hidden(lambda x: layer(x, ENC).numpy(), X)


@pytest.mark.parametrize(
    "layer",
    [
        TransformerBlock(2, 16),
        EncoderLayer(2, 16, norm_first=True),
        Encoder(2, 2, 16),
    ],
    ids=["block", "encoder_layer", "encoder"],
)
def test_padding_is_hidden(layer):
    _assert_padding_is_hidden(lambda x: layer(x, padding_mask=MASK).numpy(), X, MASK)


def test_decoder_ignores_padded_encoder_positions():
    decoder = Decoder(2, 2, 16)
    before = decoder(X, ENC, encoder_padding_mask=ENC_MASK).numpy()
    changed = ENC.copy()
    changed[~ENC_MASK] = 100.0
    after = decoder(X, changed, encoder_padding_mask=ENC_MASK).numpy()
    np.testing.assert_allclose(after, before, atol=1e-5)
