"""Transformer forecasters: a window of past values -> the next `horizon` values.

Three variants, picked by `ForecasterConfig.variant`:

* ``patch`` (the default): PatchTST-style, channel-independent, RevIN, patches of
  the window as tokens, and a linear path started from the ridge solution
  (`models/patch_forecaster.py`). It is the one that beats the linear forecaster.

* ``encoder`` (the course's forecaster): project each time step to `model_dim`,
  add sinusoidal positions, run an `Encoder`, flatten and map to the horizon with
  a dense head.
* ``encoder_decoder``: the same encoder; `horizon` learned query tokens go through
  a `Decoder` (causal self-attention + cross-attention over the encoded window),
  and each decoded token becomes one forecast step.

The two course variants predict a correction to a naive forecast read from the window itself: the
seasonal-naive one (each step repeats the value one `season` earlier) when
`season` is set, else persistence (the last value). The network only has to learn
how the series departs from the naive rule, which trains faster on a few CPU
minutes; the Evaluator still has to show it beats seasonal naive on held-out windows.
Inputs and outputs are normalized; de-normalization lives in the serving graph.
"""
from __future__ import annotations

import dataclasses

import keras
from keras import ops

from models.layers import Decoder, Encoder, PositionalEncoding, PositionEmbedding
from models.patch_forecaster import PatchForecaster

VARIANTS = ("patch", "encoder", "encoder_decoder")
LOSSES = {"mse": "mse", "mae": "mae", "huber": "huber"}  # config name -> Keras loss


@dataclasses.dataclass
class ForecasterConfig:
    lookback: int  # time steps in, T
    num_features: int  # input columns, F
    horizon: int  # time steps out, H
    target_indices: list[int]  # which input columns are forecast (their order is the output order)
    variant: str = "patch"  # "patch" | "encoder" | "encoder_decoder"
    num_layers: int = 2  # encoder (and decoder) layers
    num_heads: int = 4
    model_dim: int = 32  # width D; must be divisible by num_heads
    intermediate_dim: int = 64  # feed-forward width
    dropout: float = 0.1
    learning_rate: float = 1e-3
    season: int | None = None  # course variants' naive base: seasonal with this period, or persistence when None
    patch_length: int = 16  # patch variant: steps per patch, L
    patch_stride: int = 8  # patch variant: steps between patch starts, S
    head_dropout: float = 0.0  # patch variant: dropout on the flattened patches
    linear_skip: bool = True  # patch variant: a linear path beside the transformer
    loss: str = "mse"  # "mse" | "mae" | "huber" (on normalized values)
    decay_steps: int | None = None  # set: linear warmup then cosine decay of the learning rate over these steps
    warmup_fraction: float = 0.1  # share of decay_steps spent warming up from 0

    def validate(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"model.variant '{self.variant}' must be one of {VARIANTS}")
        if self.loss not in LOSSES:
            raise ValueError(f"model.loss '{self.loss}' must be one of {sorted(LOSSES)}")
        if self.model_dim % self.num_heads:
            raise ValueError(
                f"`model_dim` ({self.model_dim}) must be divisible by `num_heads` ({self.num_heads})"
            )
        if self.season is not None and not 1 <= self.season <= self.lookback:
            raise ValueError(f"`season` ({self.season}) must be between 1 and `lookback` ({self.lookback})")
        bad = [i for i in self.target_indices if not 0 <= i < self.num_features]
        if bad or not self.target_indices:
            raise ValueError(f"target_indices {self.target_indices} must index the {self.num_features} inputs")


@keras.saving.register_keras_serializable(package="tfx_transformers")
class NaiveForecast(keras.layers.Layer):
    """Naive forecast of the target columns from the window: (B, T, F) -> (B, H, N).

    Step h repeats the value `season * k` steps earlier (k the smallest reaching the
    window); with `season=None` every step repeats the last value (persistence).
    """

    def __init__(self, target_indices, horizon, season=None, **kwargs):
        super().__init__(**kwargs)
        self.target_indices = list(target_indices)
        self.horizon = horizon
        self.season = season

    def call(self, inputs):
        targets = ops.take(inputs, self.target_indices, axis=-1)  # (B, T, N)
        length = inputs.shape[1]
        if self.season is None:
            steps = [length - 1] * self.horizon
        else:
            steps = [length + h - self.season * (h // self.season + 1) for h in range(self.horizon)]
        return ops.take(targets, steps, axis=1)  # (B, H, N)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, len(self.target_indices))

    def get_config(self):
        return {
            **super().get_config(),
            "target_indices": self.target_indices,
            "horizon": self.horizon,
            "season": self.season,
        }


@keras.saving.register_keras_serializable(package="tfx_transformers")
class HorizonQueries(keras.layers.Layer):
    """`horizon` learned query tokens for the decoder, one per forecast step: (B, ...) -> (B, H, D)."""

    def __init__(self, horizon, model_dim, **kwargs):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.model_dim = model_dim

    def build(self, input_shape):
        self.queries = self.add_weight(
            name="queries", shape=(self.horizon, self.model_dim), initializer="glorot_uniform"
        )

    def call(self, encoded):
        batch = ops.shape(encoded)[0]
        return ops.broadcast_to(self.queries[None], (batch, self.horizon, self.model_dim))  # (B, H, D)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, self.model_dim)

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon, "model_dim": self.model_dim}


def build_forecaster(config: ForecasterConfig, linear_init=None) -> keras.Model:
    """(B, lookback, num_features) normalized window -> (B, horizon, num_targets) normalized forecast.

    `linear_init`: (kernel (T, H), bias (H,)) of a ridge fit, to start the patch
    variant's linear path from (ignored by the course variants).
    """
    config.validate()
    if config.variant == "patch":
        model = PatchForecaster(
            config.lookback,
            config.horizon,
            config.target_indices,
            patch_length=config.patch_length,
            patch_stride=config.patch_stride,
            num_layers=config.num_layers,
            num_heads=config.num_heads,
            model_dim=config.model_dim,
            intermediate_dim=config.intermediate_dim,
            dropout=config.dropout,
            head_dropout=config.head_dropout,
            linear_skip=config.linear_skip,
            name="patch_forecaster",
        )
        model(keras.ops.zeros((1, config.lookback, config.num_features)))  # build the weights
        if linear_init is not None and config.linear_skip:
            model.set_linear_weights(*linear_init)
        return compile_forecaster(model, config)
    num_targets = len(config.target_indices)
    window = keras.Input((config.lookback, config.num_features), name="window")  # (B, T, F)
    x = keras.layers.Dense(config.model_dim, name="input_projection")(window)  # (B, T, D)
    x = PositionalEncoding(config.lookback, name="positions")(x)
    encoder_kwargs = dict(
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        intermediate_dim=config.intermediate_dim,
        dropout=config.dropout,
    )
    encoded = Encoder(name="encoder", **encoder_kwargs)(x)  # (B, T, D)
    if config.variant == "encoder":
        flat = keras.layers.Flatten(name="flatten")(encoded)  # (B, T*D)
        delta = keras.layers.Dense(config.horizon * num_targets, kernel_initializer="zeros", name="head")(flat)
        delta = keras.layers.Reshape((config.horizon, num_targets), name="to_horizon")(delta)
    else:
        queries = HorizonQueries(config.horizon, config.model_dim, name="horizon_queries")(encoded)
        queries = PositionEmbedding(config.horizon, name="horizon_positions")(queries)
        decoded = Decoder(name="decoder", **encoder_kwargs)(queries, encoded)  # (B, H, D)
        delta = keras.layers.Dense(num_targets, kernel_initializer="zeros", name="head")(decoded)  # (B, H, N)
    naive = NaiveForecast(config.target_indices, config.horizon, config.season, name="naive")(window)
    forecast = keras.layers.Add(name="forecast")([naive, delta])  # (B, H, N)
    model = keras.Model(window, forecast, name=f"{config.variant}_forecaster")
    return compile_forecaster(model, config)


def learning_rate(config: ForecasterConfig):
    """A constant rate, or warmup to `learning_rate` and cosine decay over `decay_steps`."""
    if not config.decay_steps:
        return config.learning_rate
    warmup = int(config.warmup_fraction * config.decay_steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0, config.decay_steps - warmup, warmup_target=config.learning_rate, warmup_steps=warmup
    )


def compile_forecaster(model: keras.Model, config: ForecasterConfig) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(config)), loss=LOSSES[config.loss], metrics=["mae"])
    return model
