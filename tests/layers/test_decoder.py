import keras
import numpy as np
import pytest
from harness import assert_future_is_hidden, assert_padding_is_hidden, run_layer_test

from models.layers import Decoder, DecoderLayer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 8)).astype("float32")
ENC = RNG.normal(size=(2, 5, 6)).astype("float32")
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype="bool")
ENC_MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype="bool")

# Decoder layer: two attentions 16, three LayerNorms 6, 2 Dense 4.
DECODER_LAYER_WEIGHTS = 26


@pytest.mark.slow
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


@pytest.mark.slow
def test_decoder(tmp_path):
    run_layer_test(
        Decoder,
        {"num_layers": 2, "num_heads": 2, "intermediate_dim": 16},
        {"x": X, "encoder_output": ENC},
        (2, 4, 8),
        2 * DECODER_LAYER_WEIGHTS,
        tmp_path,
    )


@pytest.mark.parametrize(
    "layer",
    [DecoderLayer(2, 16), Decoder(2, 2, 16, norm_first=True)],
    ids=["decoder_layer", "pre_norm_decoder"],
)
def test_self_attention_hides_the_future(layer):
    """Teacher forcing is only honest if step t cannot read the targets after t."""
    assert_future_is_hidden(lambda x: layer(x, ENC).numpy(), X)


@pytest.mark.parametrize(
    "layer", [DecoderLayer(2, 16), Decoder(2, 2, 16)], ids=["decoder_layer", "decoder"]
)
def test_padded_encoder_positions_are_ignored(layer):
    before = layer(X, ENC, encoder_padding_mask=ENC_MASK).numpy()
    changed = ENC.copy()
    changed[~ENC_MASK] = 100.0
    after = layer(X, changed, encoder_padding_mask=ENC_MASK).numpy()
    np.testing.assert_allclose(after, before, atol=1e-5)


def test_padded_decoder_positions_are_ignored():
    """Left padding, which the causal mask alone would not hide from later positions."""
    left_padded = np.array([[0, 1, 1, 1], [0, 0, 1, 1]], dtype="bool")
    decoder = Decoder(2, 2, 16)
    assert_padding_is_hidden(
        lambda x: decoder(x, ENC, decoder_padding_mask=left_padded).numpy(), X, left_padded
    )


def test_keras_masks_are_the_default_padding_masks():
    """Masks attached upstream (Masking, an Embedding with mask_zero) fill both padding masks
    and the decoder's mask is passed on to the next layer. Only real positions are compared:
    the Keras mask also masks padded queries."""
    decoder = Decoder(2, 2, 16)
    x = np.where(MASK[..., None], X, 0.0).astype("float32")  # (2, 4, 8), pads all zero
    enc = np.where(ENC_MASK[..., None], ENC, 0.0).astype("float32")  # (2, 5, 6)
    out = decoder(keras.layers.Masking()(x), keras.layers.Masking()(enc))
    by_argument = decoder(x, enc, decoder_padding_mask=MASK, encoder_padding_mask=ENC_MASK)
    np.testing.assert_allclose(out.numpy()[MASK], by_argument.numpy()[MASK], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), MASK)
    unmasked = decoder(x, enc).numpy()
    assert not np.allclose(unmasked[MASK], by_argument.numpy()[MASK], atol=1e-5)


def test_cross_attention_projects_to_the_decoder_width():
    """The encoder may be narrower or wider than the decoder (6 vs 8 here)."""
    layer = DecoderLayer(2, 16)
    assert tuple(layer(X, ENC).shape) == (2, 4, 8)
    assert tuple(layer.cross_attention.output_dense.kernel.shape) == (2, 4, 8)  # (H, Dh, D)
