"""Speech transformer: log-mel spectrograms (B, F, M) -> per-step character logits (B, F/2, A + 1) for CTC.

ConvSubsampling (two convolutions over time: local patterns, 2x shorter) ->
sinusoidal positions -> pre-norm transformer encoder blocks that attend only to real
steps (a padding mask built from each clip's frame count) -> LayerNorm -> a linear CTC
head over the alphabet plus blank (BlankPadding makes padded steps certain blanks).
Trained with the CTC loss (`keras.losses.CTC`, blank 0), so it transcribes rather than
picks one of a fixed set of words; `models.ctc.greedy_decode` reads its output.
On a few thousand clips it leans on augmentation (`augment_batches`: SpecAugment masks,
time shifts and noise, outside the model so that nothing random is exported).
"""
from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf
from keras import ops

from models.ctc import BlankPadding, GreedyTranscriptAccuracy, RealSteps
from models.layers import PositionalEncoding, TransformerBlock
from models.layers.conv_subsampling import TIME_REDUCTION, ConvSubsampling
from models.schedules import warmup_cosine


@dataclasses.dataclass
class SpeechTransformerConfig:
    num_frames: int  # F: spectrogram frames of the longest clip
    mel_bins: int  # M
    alphabet_size: int  # A; the head has A + 1 outputs (0 is blank)
    model_dim: int = 96  # D; divisible by num_heads
    num_layers: int = 3
    num_heads: int = 4
    mlp_dim: int = 256  # feed-forward width
    dropout: float = 0.1
    learning_rate: float = 2e-3  # peak, after warmup (for batches of 32 clips)
    weight_decay: float = 0.01  # AdamW
    decay_steps: int = 1000  # warmup + cosine decay length in optimizer steps (the trainer's total)
    warmup_fraction: float = 0.08
    clipnorm: float = 1.0  # CTC's gradients spike early on: clipped by global norm

    def validate(self) -> None:
        if self.model_dim % self.num_heads:
            raise ValueError(f"`model_dim` ({self.model_dim}) must be divisible by `num_heads` ({self.num_heads})")
        if self.alphabet_size < 1 or self.num_frames < 1:
            raise ValueError("the alphabet and the spectrogram need at least one symbol and one frame")


AUGMENTATION_KEY = "augmentation"  # `model.augmentation`: Augmentation fields to change, e.g. {noise: 0}


@dataclasses.dataclass
class Augmentation:
    """Training-time distortions of standardized spectrograms, each drawn per clip: speed perturbation
    (Ko et al., 2015), vocal tract length perturbation (VTLP, Jaitly & Hinton, 2013), time shifts,
    Gaussian noise and SpecAugment masks (Park et al., 2019)."""

    time_masks: int = 2  # spans of frames set to 0 (the mean)
    time_mask_frames: int = 10  # each at most this long
    time_mask_fraction: float = 1.0  # and at most this share of the clip's real frames (SpecAugment's p)
    frequency_masks: int = 2  # bands of mel bins set to 0
    frequency_mask_bins: int = 6
    max_shift_frames: int = 10  # the clip starts up to this many frames later
    noise: float = 0.1  # Gaussian noise (in standard deviations) on real frames
    speed: float = 0.0  # the clip is played at a rate drawn from [1 - speed, 1 + speed] (time resampled)
    warp: float = 0.0  # VTLP: mel bins warped by a factor drawn from [1 - warp, 1 + warp], the top bin fixed

    @property
    def active(self) -> bool:
        return any((self.time_masks, self.frequency_masks, self.max_shift_frames, self.noise, self.speed, self.warp))

    def validate(self) -> None:
        """Raises naming each bad field as its config key (`model.augmentation.<field>`): counts are
        whole numbers >= 0, ranges numbers >= 0, a fraction at most 1, and speed and warp below 1
        (a rate or factor of 0 or less would reverse or empty the clip)."""
        wrong = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            key = f"`model.{AUGMENTATION_KEY}.{field.name}` ({value!r})"
            if field.type in (int, "int") and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                wrong.append(f"{key} must be a whole number >= 0")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                wrong.append(f"{key} must be a number >= 0")
            elif field.name in ("speed", "warp") and value >= 1:
                wrong.append(f"{key} must be < 1: it is drawn from [1 - {field.name}, 1 + {field.name}]")
            elif field.name == "time_mask_fraction" and value > 1:
                wrong.append(f"{key} must be <= 1: it is a share of the clip's frames")
        if wrong:
            raise ValueError("; ".join(wrong))


VTLP_BOUNDARY = 0.8  # VTLP warps bins below this share of the band linearly, then bends so the top bin stays


def _interpolate(values: tf.Tensor, positions: tf.Tensor, axis_length: tf.Tensor) -> tf.Tensor:
    """values (B, L, ...) read at fractional positions (B, P) along axis 1, linearly: (B, P, ...)."""
    positions = tf.clip_by_value(positions, 0.0, tf.cast(axis_length - 1, tf.float32))
    low = tf.cast(tf.floor(positions), tf.int32)  # (B, P)
    high = tf.minimum(low + 1, axis_length - 1)
    weight = positions - tf.cast(low, tf.float32)
    weight = tf.reshape(weight, tf.concat([tf.shape(weight), tf.ones([tf.rank(values) - 2], tf.int32)], 0))
    return (1.0 - weight) * tf.gather(values, low, batch_dims=1) + weight * tf.gather(values, high, batch_dims=1)


def speed_perturb(spectrogram: tf.Tensor, frames: tf.Tensor, rates: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(B, F, M), (B,) real frames, (B,) rates -> the clips played `rates` times as fast: output frame t
    reads frame t * rate (linearly interpolated), so a clip at rate 0.9 lasts 1/0.9 as long (at most F).
    Pitch is kept: frames are resampled in time, not in frequency (tempo perturbation)."""
    num_frames = tf.shape(spectrogram)[1]
    length = tf.minimum(num_frames, tf.cast(tf.math.ceil(tf.cast(frames, tf.float32) / rates), tf.int32))  # (B,)
    source = tf.cast(tf.range(num_frames), tf.float32)[None] * rates[:, None]  # (B, F)
    source = tf.minimum(source, tf.cast(frames[:, None] - 1, tf.float32))  # never past the clip's last real frame
    out = _interpolate(spectrogram, source, num_frames)
    return out * tf.cast(tf.sequence_mask(length, num_frames), out.dtype)[..., None], length


def vtlp_warp(spectrogram: tf.Tensor, factors: tf.Tensor) -> tf.Tensor:
    """(B, F, M), (B,) warp factors -> bins warped along M: output bin m reads bin m * factor below a
    boundary (VTLP_BOUNDARY of the band, scaled so the warp stays monotone), then a line to the top
    bin, which stays where it is (Jaitly & Hinton's piecewise-linear VTLP, on mel bin indices)."""
    bins = tf.shape(spectrogram)[2]
    top = tf.cast(bins - 1, tf.float32)
    m = tf.cast(tf.range(bins), tf.float32)[None]  # (1, M)
    alpha = factors[:, None]  # (B, 1)
    knee = VTLP_BOUNDARY * top * tf.minimum(alpha, 1.0) / alpha  # (B, 1) where the line bends
    source = tf.where(m <= knee, m * alpha, top - (top - knee * alpha) / (top - knee) * (top - m))  # (B, M)
    warped = _interpolate(tf.transpose(spectrogram, [0, 2, 1]), source, bins)  # (B, M, F)
    return tf.transpose(warped, [0, 2, 1])


def _masks(shape: tf.Tensor, count: int, width, length: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(B, L) float: 0 inside `count` random spans of up to `width` (an int, or (B,) per row) along an
    axis of `length`, else 1."""
    keep = tf.ones(shape, tf.float32)
    positions = tf.range(shape[1])[None]  # (1, L)
    widths = tf.broadcast_to(tf.cast(width, tf.int32), [shape[0]])[:, None]  # (B, 1)
    for index in range(count):
        draws = tf.random.stateless_uniform((shape[0], 1), seed + [index, 1])
        sizes = tf.minimum(tf.cast(draws * tf.cast(widths + 1, tf.float32), tf.int32), widths)
        starts = tf.random.stateless_uniform((shape[0], 1), seed + [index, 2], 0, 1 << 30, tf.int32)
        starts = starts % tf.maximum(length[:, None] - sizes, 1)
        inside = (positions >= starts) & (positions < starts + sizes)
        keep *= 1.0 - tf.cast(inside, tf.float32)
    return keep


def augment(inputs: tuple, seed: tf.Tensor, options: Augmentation) -> tuple:
    """One batch of (spectrogram (B, F, M), frames (B,)) distorted; padded frames stay 0."""
    spectrogram, frames = inputs[0], tf.cast(inputs[1], tf.int32)
    batch, num_frames, bins = tf.shape(spectrogram)[0], tf.shape(spectrogram)[1], tf.shape(spectrogram)[2]
    if options.speed:
        rates = tf.random.stateless_uniform((batch,), seed + [5, 0], 1.0 - options.speed, 1.0 + options.speed)
        spectrogram, frames = speed_perturb(spectrogram, frames, rates)
    if options.warp:
        spectrogram = vtlp_warp(spectrogram, tf.random.stateless_uniform((batch,), seed + [6, 0], 1.0 - options.warp, 1.0 + options.warp))
    if options.max_shift_frames:
        room = tf.minimum(options.max_shift_frames, num_frames - frames)  # (B,) never past the end
        shifts = tf.random.stateless_uniform((batch,), seed + [7, 0], 0, 1 << 30, tf.int32) % (room + 1)
        index = tf.range(num_frames)[None] - shifts[:, None]  # (B, F): output frame t reads t - shift
        spectrogram = tf.where((index >= 0)[..., None], tf.gather(spectrogram, tf.maximum(index, 0), batch_dims=1), 0.0)
        frames = frames + shifts
    real = tf.cast(tf.sequence_mask(frames, num_frames), tf.float32)[..., None]  # (B, F, 1)
    if options.noise:
        spectrogram += options.noise * tf.random.stateless_normal(tf.shape(spectrogram), seed + [8, 0]) * real
    longest = tf.cast(tf.cast(frames, tf.float32) * options.time_mask_fraction, tf.int32)  # (B,) SpecAugment's p
    time_width = tf.minimum(options.time_mask_frames, longest)
    time_keep = _masks(tf.stack([batch, num_frames]), options.time_masks, time_width, frames, seed + [9, 0])
    bin_keep = _masks(tf.stack([batch, bins]), options.frequency_masks, options.frequency_mask_bins,
                      tf.fill([batch], bins), seed + [10, 0])  # fmt: skip
    spectrogram = spectrogram * time_keep[..., None] * bin_keep[:, None, :] * real
    return spectrogram, tf.cast(frames, inputs[1].dtype)


def crop_batches(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Batches ((spectrogram (B, F, M), frames (B,)), labels (B, L)) cut to their longest clip (a multiple
    of TIME_REDUCTION frames) and to their longest transcript. Both cuts remove padding only, so
    nothing the model learns changes; both save time:
    - most clips are far shorter than the longest allowed, and the model's cost grows with F;
    - labels arrive 0-padded to one id per frame, and `keras.losses.CTC` on dense labels (TensorFlow's
      `ctc_loss_dense`) costs in proportion to L squared per step: at L = 80 (1-second batches) CTC took
      most of a training step, at L = 6 (the longest digit, "seven") its share is small (measured: a
      training step of 16 clips 3.5 times faster; the speech page of docs/, "Training time")."""

    def crop(inputs, labels):
        spectrogram, frames = inputs
        longest = tf.cast(tf.reduce_max(frames), tf.int32)
        keep = tf.minimum(tf.shape(spectrogram)[1], -(-longest // TIME_REDUCTION) * TIME_REDUCTION)
        # Labels are 0-padded on the right (0 is CTC's blank, never a character), so the longest
        # transcript is the largest count of nonzero ids. Validation guarantees each transcript fits
        # its clip's steps (<= keep // TIME_REDUCTION), so no character is cut.
        characters = tf.cast(tf.reduce_max(tf.reduce_sum(tf.cast(labels > 0, tf.int32), axis=1)), tf.int32)
        return (spectrogram[:, :keep], frames), labels[:, : tf.maximum(characters, 1)]

    return dataset.map(crop)


def length_sorted_batches(dataset: tf.data.Dataset, batch_size: int, window: int, seed: int) -> tf.data.Dataset:
    """Shuffled batches ((spectrogram (B, F, M), frames (B,)), labels) -> batches of clips of similar length.

    Each run of `window` batches is sorted by frame count and cut into batches again, which are then
    shuffled: a batch holds clips of near the same length, so `crop_batches` cuts it to little more
    than its clips' real frames (with random batches of the default digits, about half the frames
    the model reads were padding). Which clips meet in a batch changes from epoch to epoch as the
    input's shuffle does; so does the batches' order."""
    sorted_clips = dataset.unbatch().batch(batch_size * window).map(_sorted_by_length).unbatch()
    return sorted_clips.batch(batch_size).shuffle(window, seed=seed, reshuffle_each_iteration=True)


def _sorted_by_length(inputs: tuple, labels: tf.Tensor) -> tuple:
    """((spectrogram (N, F, M), frames (N,)), labels (N, L)) ordered by frames."""
    order = tf.argsort(inputs[1])
    return tuple(tf.gather(part, order) for part in inputs), tf.gather(labels, order)


def augment_batches(dataset: tf.data.Dataset, options: Augmentation, seed: int) -> tf.data.Dataset:
    """Training batches (inputs, characters) with `augment` applied, a different draw per batch."""
    options.validate()
    if not options.active:
        return dataset
    counter = tf.data.Dataset.counter()
    return tf.data.Dataset.zip((dataset, counter)).map(
        lambda batch, step: (augment(batch[0], tf.stack([tf.cast(seed, tf.int64), step]), options), batch[1])
    )


def build_speech_transformer(config: SpeechTransformerConfig) -> keras.Model:
    """A compiled functional model on (spectrogram (B, F, M) standardized log-mel, frames (B,) real
    frames per clip) -> logits (B, ceil(F/2), A + 1). F may be anything up to `num_frames`:
    training crops each batch to its longest clip (`crop_batches`), serving reads all frames,
    and the two agree because padded frames are masked."""
    config.validate()
    spectrogram = keras.Input((None, config.mel_bins), name="spectrogram")
    frames = keras.Input((), dtype="int64", name="frames")
    # Frames past a clip's end are zero whatever the caller sent, so the convolutions at its
    # last real steps read silence, never padding content.
    real_frames = RealSteps(name="real_frames")(spectrogram, frames)  # (B, F)
    x = ops.where(ops.expand_dims(real_frames, -1), spectrogram, 0.0)  # (B, F, M)
    x = ConvSubsampling(config.model_dim, name="conv_subsampling")(x)  # (B, T, D)
    real = RealSteps(name="real_steps")(x, ConvSubsampling.output_lengths(frames))  # (B, T)
    x = PositionalEncoding(-(-config.num_frames // TIME_REDUCTION), name="positions")(x)
    x = keras.layers.Dropout(config.dropout)(x)
    for index in range(config.num_layers):
        x = TransformerBlock(
            config.num_heads, config.mlp_dim, dropout=config.dropout, norm_first=True, activation="gelu",
            name=f"block_{index}",
        )(x, padding_mask=real)  # fmt: skip
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    logits = keras.layers.Dense(config.alphabet_size + 1, name="ctc_head")(x)  # (B, T, A + 1)
    logits = BlankPadding(name="blank_padding")(logits, real)
    model = keras.Model([spectrogram, frames], logits, name="speech_transformer")
    model.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_cosine(config.learning_rate, config.decay_steps, config.warmup_fraction),
            weight_decay=config.weight_decay,
            clipnorm=config.clipnorm,
        ),
        loss=keras.losses.CTC(name="loss"),
        metrics=[GreedyTranscriptAccuracy(name="accuracy")],  # exact greedy transcripts (`trainer.keep_best_on`)
    )
    return model
