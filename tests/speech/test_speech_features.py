"""The spectrogram graph (tasks/speech/preprocessing.py) against numpy, and its edges."""
import numpy as np
import pytest
import tensorflow as tf

from tasks.speech import preprocessing
from tasks.speech.config import SpeechConfig
from tasks.speech.source import wav_bytes
from tests.speech.clips import RATE, tone_clip

SPEECH = SpeechConfig()


def numpy_mel_weights(bins: int, fft_bins: int, rate: int, low: float, high: float) -> np.ndarray:
    """HTK-mel triangles, as tf.signal.linear_to_mel_weight_matrix defines them (the DC bin unused)."""
    def mel(hz):
        return 1127.0 * np.log1p(np.asarray(hz) / 700.0)

    hertz = np.linspace(0.0, rate / 2, fft_bins)[1:]
    spectrum_mel = mel(hertz)[:, None]
    edges = np.linspace(mel(low), mel(high), bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0.0, np.minimum((spectrum_mel - lower) / (center - lower), (upper - spectrum_mel) / (upper - center)))
    return np.pad(weights, [[1, 0], [0, 0]])


def numpy_log_mel(samples: np.ndarray, speech: SpeechConfig) -> np.ndarray:
    n, step, fft = speech.frame_length, speech.frame_step, speech.fft_length
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic Hann, tf.signal.stft's default
    frames = np.stack([samples[i : i + n] * window for i in range(0, len(samples) - n + 1, step)])
    power = np.abs(np.fft.rfft(frames, fft)) ** 2
    weights = numpy_mel_weights(speech.mel_bins, fft // 2 + 1, speech.sample_rate, 20.0, speech.sample_rate / 2)
    return np.log(power @ weights + preprocessing.LOG_FLOOR)


def test_log_mel_matches_a_numpy_reference_on_a_real_clip():
    encoded = open("tasks/speech/fsdd/7_jackson_0.wav", "rb").read()
    samples, lengths = preprocessing.decode_clips(tf.constant([encoded]), SPEECH)
    ours = preprocessing.log_mel(samples, SPEECH).numpy()[0]
    reference = numpy_log_mel(samples.numpy()[0].astype(np.float64), SPEECH)
    assert ours.shape == reference.shape == (SPEECH.num_frames, SPEECH.mel_bins)
    frames = int(preprocessing.frame_counts(lengths, SPEECH)[0])
    # Real frames: energies agree to 1e-3 in log units (float32 FFT vs float64).
    np.testing.assert_allclose(ours[:frames], reference[:frames], atol=2e-3, rtol=1e-4)


def test_stereo_at_another_rate_becomes_mono_resampled_as_scipy_does():
    from scipy.signal import resample

    clip = tone_clip("ab", np.random.default_rng(0), rate=16000)
    stereo = np.stack([clip, -clip * 0.5], axis=1)  # mixed down: (clip - clip / 2) / 2
    samples, lengths = preprocessing.decode_clips(tf.constant([wav_bytes(stereo, 16000)]), SPEECH)
    expected = resample(clip / 4, int(round(len(clip) * RATE / 16000)))  # band-limited (FFT) resampling
    assert int(lengths[0]) == len(expected)
    np.testing.assert_allclose(samples.numpy()[0, : len(expected)], expected, atol=1e-3)


def test_a_long_clip_is_cut_and_a_short_one_padded_with_its_real_frames_counted():
    long = wav_bytes(np.zeros(RATE * 3), RATE)
    short = wav_bytes(np.full(800, 0.1), RATE)
    samples, lengths = preprocessing.decode_clips(tf.constant([long, short]), SPEECH)
    assert samples.shape == (2, SPEECH.max_samples)
    assert lengths.numpy().tolist() == [SPEECH.max_samples, 800]
    assert np.all(samples.numpy()[1, 800:] == 0)
    frames = preprocessing.frame_counts(lengths, SPEECH).numpy()
    assert frames.tolist() == [SPEECH.num_frames, 1 + (800 - SPEECH.frame_length) // SPEECH.frame_step]


def test_characters_become_one_based_ids_padded_with_the_ctc_blank():
    ids = preprocessing.character_ids(tf.constant(["seven", "a b'"]), SPEECH).numpy()
    assert ids.shape == (2, SPEECH.max_characters)
    assert ids[0, :6].tolist() == [19, 5, 22, 5, 14, 0]
    assert ids[1, :5].tolist() == [1, 28, 2, 27, 0]


@pytest.mark.parametrize("rate", [8000, 11025, 44100])
def test_resampling_keeps_the_duration(rate):
    samples = tf.constant(np.random.default_rng(1).normal(size=rate // 2).astype("float32"))
    out = preprocessing.resample(samples, tf.constant(rate), 8000)
    assert abs(int(out.shape[0]) - 4000) <= 1


@pytest.mark.parametrize("how", ["cmn", "cmvn"])
def test_per_utterance_normalization_uses_only_each_clips_real_frames(how):
    rng = np.random.default_rng(3)
    energies = rng.normal(2.0, 3.0, size=(2, 30, 4)).astype("float32")
    frames = np.array([30, 12])
    speech = SpeechConfig(normalize=how)
    out = preprocessing.per_utterance(tf.constant(energies), tf.constant(frames), speech).numpy()
    for row, source, real in zip(out, energies, frames, strict=True):
        expected = source[:real] - source[:real].mean(0)
        if how == "cmvn":
            expected /= source[:real].std(0)
        np.testing.assert_allclose(row[:real], expected, atol=1e-4)
    # A louder recording of the same clip (a constant offset of the log-mels) normalizes the same.
    louder = preprocessing.per_utterance(tf.constant(energies + 5.0), tf.constant(frames), speech).numpy()
    np.testing.assert_allclose(louder[1, :12], out[1, :12], atol=1e-4)
    assert np.array_equal(preprocessing.per_utterance(tf.constant(energies), tf.constant(frames), SpeechConfig()), energies)
