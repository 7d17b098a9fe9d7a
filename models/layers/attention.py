"""Multi-head attention written from scratch (Q, K, V projections, scaled dot-product)."""
from __future__ import annotations

import math

import keras
from keras import ops

# Logit given to masked positions. Finite (not -inf) so a fully masked row gives a
# uniform distribution instead of NaN, exactly like `keras.layers.Softmax(mask=...)`.
_MASKED_LOGIT = -1e9


@keras.saving.register_keras_serializable(package="tfx_transformers")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention.

    Same semantics as `keras.layers.MultiHeadAttention` (for inputs of rank 3) and the
    same weight layout, so weights can be copied between the two: query/key/value
    kernels are `(D, H, Dh)` with `(H, Dh)` biases, the output kernel is `(H, Dh, D)`.
    It exists so the seed shows every step of attention in one readable `call`.

    Args:
        num_heads: number of attention heads `H`.
        key_dim: size `Dh` of each head for query and key.
        value_dim: size of each head for value; defaults to `key_dim`.
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        output_shape: last dimension of the output; defaults to the query's last dim.
        kernel_initializer: initializer of the projection kernels.
        bias_initializer: initializer of the projection biases.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_heads < 1 or key_dim < 1:
            raise ValueError(
                f"`num_heads` ({num_heads}) and `key_dim` ({key_dim}) must both be >= 1."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` ({dropout}) must be in [0, 1).")
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim is not None else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.output_dim = output_shape  # `output_shape` is a read-only Layer property.
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _projection(self, equation, output_shape, bias_axes, name):
        projection = keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=keras.initializers.get(
                keras.initializers.serialize(self.kernel_initializer)
            ),
            bias_initializer=keras.initializers.get(
                keras.initializers.serialize(self.bias_initializer)
            ),
            dtype=self.dtype_policy,
            name=name,
        )
        # Masks are applied to the attention scores; the projections just pass them on.
        projection.supports_masking = True
        return projection

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        output_dim = self.output_dim or query_shape[-1]
        # Same einsum equations (and so the same kernel shapes) as keras's layer.
        self.query_dense = self._projection(
            "abc,cde->abde", (None, self.num_heads, self.key_dim), "de", "query"
        )
        self.query_dense.build(query_shape)
        self.key_dense = self._projection(
            "abc,cde->abde", (None, self.num_heads, self.key_dim), "de", "key"
        )
        self.key_dense.build(key_shape)
        self.value_dense = self._projection(
            "abc,cde->abde", (None, self.num_heads, self.value_dim), "de", "value"
        )
        self.value_dense.build(value_shape)
        self.output_dense = self._projection(
            "abcd,cde->abe", (None, output_dim), "e", "attention_output"
        )
        self.output_dense.build((query_shape[0], query_shape[1], self.num_heads, self.value_dim))
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def _merge_masks(self, query, value, query_mask, value_mask, attention_mask, use_causal_mask):
        """Combine every mask source into one boolean `(B|1, T|1, S)` mask, or None."""
        mask = None
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")  # (B, T, S)
        if query_mask is not None:
            qm = ops.expand_dims(ops.cast(query_mask, "bool"), -1)  # (B, T, 1)
            mask = qm if mask is None else ops.logical_and(mask, qm)
        if value_mask is not None:
            vm = ops.expand_dims(ops.cast(value_mask, "bool"), -2)  # (B, 1, S)
            mask = vm if mask is None else ops.logical_and(mask, vm)
        if use_causal_mask:
            t, s = ops.shape(query)[1], ops.shape(value)[1]
            # Query i may attend key j <= i (a lower triangle, like keras's layer).
            row = ops.expand_dims(ops.arange(t), -1)  # (T, 1)
            col = ops.expand_dims(ops.arange(s), 0)  # (1, S)
            causal = ops.expand_dims(ops.greater_equal(row, col), 0)  # (1, T, S)
            mask = causal if mask is None else ops.logical_and(mask, causal)
        return mask

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        query_mask=None,
        value_mask=None,
    ):
        """Attend from `query` (B, T, Dq) to `value` (B, S, Dv); `key` defaults to `value`.

        `attention_mask` (B, T, S), `query_mask` (B, T) and `value_mask` (B, S) are
        boolean or 0/1 (1 = attend) and are combined with the causal mask; Keras masks
        of `query` and `value` fill `query_mask` and `value_mask` automatically.
        Returns (B, T, output_dim), plus the attention probabilities (B, H, T, S) when
        `return_attention_scores`.
        """
        key = value if key is None else key
        mask = self._merge_masks(
            query, value, query_mask, value_mask, attention_mask, use_causal_mask
        )

        q = self.query_dense(query)  # (B, T, H, Dh)
        k = self.key_dense(key)  # (B, S, H, Dh)
        v = self.value_dense(value)  # (B, S, H, Dv)
        q = ops.transpose(q, (0, 2, 1, 3))  # (B, H, T, Dh)
        k = ops.transpose(k, (0, 2, 3, 1))  # (B, H, Dh, S)
        v = ops.transpose(v, (0, 2, 1, 3))  # (B, H, S, Dv)

        q = q * ops.cast(1.0 / math.sqrt(self.key_dim), q.dtype)
        scores = ops.matmul(q, k)  # (B, H, T, S)
        if mask is not None:
            mask = ops.expand_dims(mask, 1)  # (B, 1, T, S), broadcast over heads
            scores = ops.where(mask, scores, ops.cast(_MASKED_LOGIT, scores.dtype))
        probs = ops.softmax(scores, axis=-1)
        dropped = self.dropout_layer(probs, training=training) if self.dropout > 0 else probs

        out = ops.matmul(dropped, v)  # (B, H, T, Dv)
        out = ops.transpose(out, (0, 2, 1, 3))  # (B, T, H, Dv)
        out = self.output_dense(out)  # (B, T, output_dim)
        if return_attention_scores:
            return out, probs
        return out

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return (*query_shape[:-1], self.output_dim or query_shape[-1])

    def compute_mask(self, query, value, key=None, query_mask=None, value_mask=None, **kwargs):
        # The output is aligned with the query, so it keeps the query's padding mask.
        return query_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
