"""ConvSubsampling: the speech transformer's convolutional front end."""
from __future__ import annotations

import keras
from keras import ops

STRIDES = (1, 2)  # of the two convolutions over time
TIME_REDUCTION = 2  # their product: it bounds the characters a clip can be transcribed to


@keras.saving.register_keras_serializable(package="tfx_transformers")
class ConvSubsampling(keras.layers.Layer):
    """(B, T, M) spectrogram frames -> (B, ceil(T / 2), D): two 1-D convolutions over time (strides
    1 and 2) with GELU, mel bins as channels.

    They see local patterns (formants moving over a few frames) before attention sees the
    whole clip, and they halve time, which makes attention 4 times cheaper. On spoken digits
    the output rate matters more than usual: at 25 steps a second (a 10 ms hop cut 4-fold, as
    in Speech-Transformer, Dong et al., 2018) the shortest clips (0.14 s) have fewer steps than
    "three" needs under CTC (six: a blank between the two e's), and at 50 a second most errors
    are still "thre"; at 100 a second (a 5 ms hop, halved) they go (README, "Speech").
    """

    def __init__(self, filters, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        # Explicit zero padding, not padding="same": "same" pads a stride-2 input on the left or
        # not depending on its length's parity, so a clip would be read differently in a batch
        # cut to its longest clip (training) and at the full length (serving).
        self.paddings = [keras.layers.ZeroPadding1D(kernel_size // 2, name=f"pad_{i}") for i in range(len(STRIDES))]
        self.convolutions = [
            keras.layers.Conv1D(filters, kernel_size, strides=s, padding="valid", activation="gelu", name=f"conv_{i}")
            for i, s in enumerate(STRIDES)
        ]

    def build(self, inputs_shape):
        shape = inputs_shape
        for padding, convolution in zip(self.paddings, self.convolutions, strict=True):
            shape = padding.compute_output_shape(shape)
            convolution.build(shape)
            shape = convolution.compute_output_shape(shape)
        self.built = True

    def call(self, inputs):
        x = inputs
        for padding, convolution in zip(self.paddings, self.convolutions, strict=True):
            x = convolution(padding(x))  # (B, ceil(T / stride), D) for an odd kernel
        return x

    @staticmethod
    def output_lengths(lengths):
        """(B,) real input frames -> (B,) real output steps (what the padding mask keeps)."""
        return ops.cast(ops.ceil(ops.cast(lengths, "float32") / TIME_REDUCTION), "int32")

    def compute_output_shape(self, inputs_shape):
        length = None if inputs_shape[1] is None else -(-inputs_shape[1] // TIME_REDUCTION)
        return (inputs_shape[0], length, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}
