"""Transformer building blocks (Keras 3), all registered as serializable."""
from models.layers.attention import MultiHeadAttention
from models.layers.class_token import ClassToken
from models.layers.decoder import Decoder, DecoderLayer
from models.layers.encoder import Encoder, EncoderLayer
from models.layers.patch_embedding import PatchEmbedding
from models.layers.positional import (
    PositionalEncoding,
    PositionEmbedding,
    TokenAndPositionEmbedding,
)
from models.layers.transformer_block import TransformerBlock

__all__ = [
    "ClassToken",
    "Decoder",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "MultiHeadAttention",
    "PatchEmbedding",
    "PositionEmbedding",
    "PositionalEncoding",
    "TokenAndPositionEmbedding",
    "TransformerBlock",
]
