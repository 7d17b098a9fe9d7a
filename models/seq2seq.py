"""Encoder-decoder Transformer for sequence-to-sequence token tasks (Vaswani et al.).

Token id 0 is padding on both sides: the embeddings carry the mask `ids != 0`, the
encoder and decoder use it as their padding masks, and Keras drops padded target
positions from the loss. The decoder input is the target shifted right behind a
start token; `greedy_decode` generates one token at a time from that start token.
"""
from __future__ import annotations

import keras
import numpy as np

from models.layers import Decoder, Encoder, TokenAndPositionEmbedding

ENCODER_INPUTS = "encoder_inputs"
DECODER_INPUTS = "decoder_inputs"
PAD_ID = 0


def build_transformer(
    source_vocab_size: int,
    target_vocab_size: int,
    source_length: int,
    target_length: int,
    embedding_dim: int,
    num_layers: int,
    num_heads: int,
    intermediate_dim: int,
    dropout: float = 0.0,
) -> keras.Model:
    """Functional model {"encoder_inputs": (B, S), "decoder_inputs": (B, T)} int ids ->
    next-token logits (B, T, target_vocab_size)."""
    encoder_inputs = keras.Input((source_length,), dtype="int32", name=ENCODER_INPUTS)
    decoder_inputs = keras.Input((target_length,), dtype="int32", name=DECODER_INPUTS)

    x = TokenAndPositionEmbedding(
        source_vocab_size, source_length, embedding_dim, name="source_embedding"
    )(encoder_inputs)  # (B, S, D), masked where id == 0
    x = keras.layers.Dropout(dropout)(x)
    encoder_output = Encoder(
        num_layers, num_heads, intermediate_dim, dropout=dropout, name="encoder"
    )(x)

    y = TokenAndPositionEmbedding(
        target_vocab_size, target_length, embedding_dim, name="target_embedding"
    )(decoder_inputs)  # (B, T, D)
    y = keras.layers.Dropout(dropout)(y)
    y = Decoder(num_layers, num_heads, intermediate_dim, dropout=dropout, name="decoder")(
        y, encoder_output
    )
    logits = keras.layers.Dense(target_vocab_size, name="logits")(y)  # (B, T, V)
    return keras.Model(
        {ENCODER_INPUTS: encoder_inputs, DECODER_INPUTS: decoder_inputs},
        logits,
        name="transformer",
    )


def greedy_decode(model: keras.Model, encoder_inputs, start_id: int) -> np.ndarray:
    """Generate target ids (B, T) for `encoder_inputs` (B, S) by picking the most likely
    token at each step. Position t only sees decoder positions <= t (causal), so the
    not-yet-generated positions may hold anything; they hold padding."""
    encoder_inputs = np.asarray(encoder_inputs, dtype="int32")
    target_length = model.input[DECODER_INPUTS].shape[1]
    decoder_inputs = np.full((len(encoder_inputs), target_length), PAD_ID, dtype="int32")
    decoder_inputs[:, 0] = start_id
    generated = np.zeros_like(decoder_inputs)
    for t in range(target_length):
        logits = model({ENCODER_INPUTS: encoder_inputs, DECODER_INPUTS: decoder_inputs})
        generated[:, t] = np.argmax(keras.ops.convert_to_numpy(logits[:, t]), axis=-1)
        if t + 1 < target_length:
            decoder_inputs[:, t + 1] = generated[:, t]
    return generated
