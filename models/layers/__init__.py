"""Transformer building blocks (Keras 3), all registered as serializable."""
from models.layers.attention import MultiHeadAttention

__all__ = ["MultiHeadAttention"]
