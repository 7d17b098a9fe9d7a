"""Audio as a tensorflow-transform `preprocessing_fn`: WAV bytes -> standardized log-mel spectrograms.

WAV bytes (any rate, mono or stereo) -> samples at `speech.sample_rate` (channels averaged,
resampled in the frequency domain) -> the first `max_seconds`, zero-padded -> log-mel
spectrogram (`tf.signal`) -> optionally normalized per clip (`speech.normalize`: CMVN) ->
standardized per mel bin with the mean and standard deviation
of the train split's real frames (Transform analyzes train only). Padded frames are 0 and
`frames` says how many are real. The same graph runs at serving, so a client sends the
file's bytes. Augmentation (noise, time shift, SpecAugment masks) belongs in training
(models/speech_transformer.py), not here.

The transcript becomes character ids for the CTC loss: 1 + its index in `speech.alphabet`,
0-padded (0 is CTC's blank) to `speech.max_characters`.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from tasks.speech import features
from tasks.speech.config import SpeechConfig

LOG_FLOOR = 1e-6  # log(mel + LOG_FLOOR): silence stays finite
UTTERANCE_STD_FLOOR = 1e-3  # a clip's bin that never changes (digital silence) is not blown up


def resample(samples: tf.Tensor, rate: tf.Tensor, target: int) -> tf.Tensor:
    """(N,) samples at `rate` -> (round(N * target / rate),) at `target`, band-limited: the
    spectrum is cut (or zero-extended) at the new Nyquist frequency. A no-op at `target`."""

    def change() -> tf.Tensor:
        n = tf.shape(samples)[0]
        m = tf.maximum(1, tf.cast(tf.round(tf.cast(n, tf.float64) * target / tf.cast(rate, tf.float64)), tf.int32))
        spectrum = tf.signal.rfft(samples)  # (n // 2 + 1,)
        bins = m // 2 + 1
        kept = spectrum[: tf.minimum(bins, tf.shape(spectrum)[0])]
        kept = tf.pad(kept, [[0, bins - tf.shape(kept)[0]]])
        return tf.signal.irfft(kept, fft_length=[m]) * (tf.cast(m, tf.float32) / tf.cast(n, tf.float32))

    return tf.cond(tf.equal(rate, target), lambda: samples, change)


def decode_clip(encoded: tf.Tensor, speech: SpeechConfig) -> tuple[tf.Tensor, tf.Tensor]:
    """One WAV file's bytes -> ((max_samples,) float32 mono at the configured rate, zero-padded;
    the number of real samples)."""
    audio, rate = tf.audio.decode_wav(encoded)  # (N, C) in [-1, 1], scalar int32
    # Longer clips are stopped by validation; at serving, the first max_seconds are heard.
    keep = tf.cast(tf.math.ceil(speech.max_seconds * tf.cast(rate, tf.float32)), tf.int32) + 1
    mono = tf.reduce_mean(audio[:keep], axis=1)  # (N,)
    samples = resample(mono, rate, speech.sample_rate)[: speech.max_samples]
    length = tf.shape(samples)[0]
    return tf.pad(samples, [[0, speech.max_samples - length]]), length


def decode_clips(encoded: tf.Tensor, speech: SpeechConfig) -> tuple[tf.Tensor, tf.Tensor]:
    """(B,) WAV bytes -> ((B, max_samples) samples, (B,) real sample counts)."""
    samples, lengths = tf.map_fn(
        lambda one: decode_clip(one, speech),
        encoded,
        fn_output_signature=(tf.TensorSpec((speech.max_samples,), tf.float32), tf.TensorSpec((), tf.int32)),
    )
    return tf.ensure_shape(samples, (None, speech.max_samples)), lengths


def log_mel(samples: tf.Tensor, speech: SpeechConfig) -> tf.Tensor:
    """(B, max_samples) -> (B, num_frames, mel_bins) log-mel energies."""
    stft = tf.signal.stft(samples, speech.frame_length, speech.frame_step, speech.fft_length)  # (B, F, fft/2+1)
    weights = tf.signal.linear_to_mel_weight_matrix(
        speech.mel_bins, speech.fft_length // 2 + 1, speech.sample_rate, 20.0, speech.sample_rate / 2
    )  # (fft/2+1, M)
    return tf.math.log(tf.tensordot(tf.abs(stft) ** 2, weights, 1) + LOG_FLOOR)


def per_utterance(energies: tf.Tensor, frames: tf.Tensor, speech: SpeechConfig) -> tf.Tensor:
    """(B, F, M) log-mels -> the same, each clip normalized per mel bin over its own real frames
    (`speech.normalize`): "cmn" subtracts the clip's mean (a fixed channel or vocal-tract tilt is a
    constant offset of a log spectrum), "cmvn" also divides by its standard deviation (loudness range).
    Deterministic per clip, so serving applies it as training does; "none" leaves them as they are."""
    if speech.normalize == "none":
        return energies
    real = tf.cast(tf.sequence_mask(frames, tf.shape(energies)[1]), energies.dtype)[..., None]  # (B, F, 1)
    count = tf.maximum(tf.reduce_sum(real, axis=1, keepdims=True), 1.0)  # (B, 1, 1)
    mean = tf.reduce_sum(energies * real, axis=1, keepdims=True) / count  # (B, 1, M)
    centred = energies - mean
    if speech.normalize == "cmn":
        return centred
    std = tf.sqrt(tf.reduce_sum(tf.square(centred) * real, axis=1, keepdims=True) / count)  # (B, 1, M)
    return centred / tf.maximum(std, UTTERANCE_STD_FLOOR)


def frame_counts(lengths: tf.Tensor, speech: SpeechConfig) -> tf.Tensor:
    """(B,) real samples -> (B,) spectrogram frames that hold real audio (at least 1)."""
    frames = 1 + (lengths - speech.frame_length) // speech.frame_step
    return tf.clip_by_value(frames, 1, speech.num_frames)


def character_ids(transcripts: tf.Tensor, speech: SpeechConfig) -> tf.Tensor:
    """(B,) strings -> (B, max_characters) int64: 1 + the index in the alphabet, 0-padded.
    (Characters outside the alphabet stop the run at validation; here they would become 0.)"""
    alphabet = tf.constant([ord(c) for c in speech.alphabet], tf.int32)  # (A,)
    codes = tf.strings.unicode_decode(transcripts, "UTF-8")  # (B, None) code points
    matches = tf.cast(tf.equal(codes[..., None], alphabet), tf.int64)  # (B, None, A)
    ids = tf.reduce_sum(matches * tf.range(1, len(speech.alphabet) + 1, dtype=tf.int64), axis=-1)  # (B, None)
    return ids.to_tensor(0, shape=(None, speech.max_characters))


def transform_speech(inputs: dict, speech: SpeechConfig) -> dict:
    samples, lengths = decode_clips(tf.squeeze(inputs[features.AUDIO_KEY], axis=1), speech)
    frames = frame_counts(lengths, speech)  # (B,)
    energies = per_utterance(log_mel(samples, speech), frames, speech)  # (B, F, M)
    real = tf.sequence_mask(frames, speech.num_frames)  # (B, F)
    real_frames = tf.boolean_mask(energies, real)  # (frames in the batch, M)
    mean = tft.mean(real_frames, reduce_instance_dims=False)  # (M,), train split
    std = tf.sqrt(tft.var(real_frames, reduce_instance_dims=False))  # (M,)
    standardized = (energies - mean) / tf.maximum(std, 1e-6) * tf.cast(real, tf.float32)[..., None]
    outputs = {features.SPECTROGRAM_KEY: standardized, features.FRAMES_KEY: tf.cast(frames, tf.int64)}
    # The transcript is absent at serving: tf.Transform prunes this branch from the graph then.
    outputs[features.CHARACTERS_KEY] = character_ids(tf.squeeze(inputs[features.TRANSCRIPT_KEY], axis=1), speech)
    return outputs


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """TFX entry point; `custom_config` is `PipelineConfig.to_dict()`."""
    return transform_speech(inputs, SpeechConfig(**custom_config["speech"]))
