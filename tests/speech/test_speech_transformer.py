"""The speech transformer, its layers and CTC decoding."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from models.ctc import (
    BLANK,
    BlankPadding,
    GreedyTranscriptAccuracy,
    greedy_decode,
    ids_to_text,
    lexicon_decode,
)
from models.speech_transformer import (
    Augmentation,
    SpeechTransformerConfig,
    augment,
    build_speech_transformer,
    crop_batches,
    length_sorted_batches,
    speed_perturb,
    vtlp_warp,
)
from tests.layers.harness import run_layer_test

RNG = np.random.default_rng(0)
ALPHABET = "abcdefghijklmnopqrstuvwxyz' "


def test_blank_padding_through_the_layer_harness(tmp_path):
    logits = RNG.normal(size=(2, 5, 4)).astype("float32")
    real = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype="float32")
    run_layer_test(BlankPadding, {}, {"logits": logits, "real": real}, (2, 5, 4), 0, tmp_path)
    out = BlankPadding()(logits, real).numpy()
    assert np.array_equal(out[0, :3], logits[0, :3]) and np.array_equal(out[1], logits[1])
    assert np.all(out[0, 3:].argmax(-1) == BLANK)


def one_hot_logits(path: list[int], vocabulary: int = len(ALPHABET) + 1) -> np.ndarray:
    return np.eye(vocabulary, dtype="float32")[path][None] * 10.0  # (1, T, V)


def test_greedy_decoding_of_a_known_alignment_merges_repeats_and_drops_blanks():
    s, e, v, n = 19, 5, 22, 14  # "seven": - s s e e - v - e e n n -
    ids = greedy_decode(tf.constant(one_hot_logits([0, s, s, e, e, 0, v, 0, e, e, n, n, 0])))
    assert ids.to_list() == [[s, e, v, e, n]]
    assert ids_to_text(ids, ALPHABET).numpy().tolist() == [b"seven"]
    # A doubled letter needs a blank between its two emissions: "-o-o-" is "oo", "oo" is "o".
    o = 15
    assert ids_to_text(greedy_decode(tf.constant(one_hot_logits([0, o, 0, o, 0]))), ALPHABET).numpy()[0] == b"oo"
    assert ids_to_text(greedy_decode(tf.constant(one_hot_logits([o, o, 0]))), ALPHABET).numpy()[0] == b"o"


def letters(word: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in word]


def test_lexicon_decoding_turns_a_near_miss_into_the_likeliest_word():
    # "eigh" then a step that leans towards blank but gives "t" some weight: greedy spells
    # "eigh", which is no word; of the lexicon, "eight" is the likeliest under CTC.
    path = [0, *letters("eigh"), 0]
    logits = one_hot_logits(path)  # (1, 6, V)
    logits[0, -1, letters("t")[0]] = 8.0  # blank 10 vs "t" 8 at the last step
    assert ids_to_text(greedy_decode(tf.constant(logits)), ALPHABET).numpy().tolist() == [b"eigh"]
    lexicon = ["eight", "five", "nine"]
    assert lexicon_decode(tf.constant(logits), lexicon, ALPHABET).numpy().tolist() == [b"eight"]


@pytest.mark.slow
def test_lexicon_decoding_matches_per_entry_ctc_likelihoods_for_a_batch():
    logits = RNG.normal(size=(3, 7, len(ALPHABET) + 1)).astype("float32") * 3  # (B, T, V)
    lexicon = ["on", "one", "two", "zoo"]
    likelihood = np.stack([
        -tf.nn.ctc_loss(tf.constant([letters(w)] * 3), tf.constant(logits), tf.fill([3], len(w)), tf.fill([3], 7),
                        logits_time_major=False, blank_index=BLANK).numpy()
        for w in lexicon
    ], axis=1)  # (B, W)  # fmt: skip
    expected = [lexicon[i].encode() for i in likelihood.argmax(1)]
    assert lexicon_decode(tf.constant(logits), lexicon, ALPHABET).numpy().tolist() == expected


def tiny_config(**overrides) -> SpeechTransformerConfig:
    return SpeechTransformerConfig(**{
        "num_frames": 24, "mel_bins": 6, "alphabet_size": 3, "model_dim": 16, "num_layers": 1, "num_heads": 2,
        "mlp_dim": 16, "decay_steps": 10, **overrides,
    })  # fmt: skip


def inputs(batch: int = 4) -> tuple:
    """(spectrogram (B, 24, 6), frames (B,))."""
    return RNG.normal(size=(batch, 24, 6)).astype("float32"), np.array([24, 10, 3, 17][:batch], dtype="int64")


def test_output_shape_and_padded_steps_are_certain_blanks():
    model = build_speech_transformer(tiny_config())
    logits = model(inputs()).numpy()
    assert logits.shape == (4, 12, 4)  # ceil(24 / 2) steps, alphabet + blank
    steps = [12, 5, 2, 9]
    for row, real in zip(logits, steps, strict=True):
        assert np.all(row[real:].argmax(-1) == BLANK)


@pytest.mark.slow
def test_padding_does_not_change_what_a_clip_is_read_as():
    model = build_speech_transformer(tiny_config())
    x = inputs()
    changed = (x[0].copy(), x[1])
    changed[0][1, 10:] = RNG.normal(size=(14, 6))  # beyond clip 1's 10 real frames (5 steps)
    np.testing.assert_allclose(model(x).numpy()[1, :5], model(changed).numpy()[1, :5], atol=1e-5)
    # Cut to fewer frames (as training batches are; an even or an odd number), the real steps read the same.
    for frames in (12, 11):
        cropped = (x[0][:, :frames], x[1])
        np.testing.assert_allclose(model(cropped).numpy()[1, :5], model(x).numpy()[1, :5], atol=1e-5)


@pytest.mark.slow
def test_the_model_learns_a_transcript_and_reloads_with_identical_outputs(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_speech_transformer(tiny_config(learning_rate=1e-2, decay_steps=120, dropout=0.0))
    x = inputs()
    x[1][:] = 24
    labels = np.zeros((4, 12), "int64")
    labels[:, :3] = [1, 2, 3]  # "abc" for every clip
    # 120 steps on the one batch, as 12 epochs of 10: Keras's per-epoch cost is paid 12 times, not 120
    batches = tf.data.Dataset.from_tensors(((x[0], x[1]), labels)).repeat()
    history = model.fit(batches, epochs=12, steps_per_epoch=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    assert ids_to_text(greedy_decode(model(x)), "abc").numpy().tolist() == [b"abc"] * 4
    path = str(tmp_path / "speech.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x).numpy(), model(x).numpy(), atol=1e-5)


def test_augmentation_keeps_padding_silent_and_frame_counts_consistent():
    x = tuple(tf.constant(v) for v in inputs())
    spectrogram, frames = (t.numpy() for t in augment(x, tf.constant([3, 4], tf.int64), Augmentation(max_shift_frames=5)))
    assert np.all(frames >= x[1].numpy()) and np.all(frames <= 24)
    for row, real in zip(spectrogram, frames, strict=True):
        assert np.all(row[real:] == 0)
    assert not np.allclose(spectrogram, x[0].numpy())


def clip_batches(frames: list[int], characters: list[int], batch_size: int) -> tf.data.Dataset:
    """Batches ((spectrogram (B, 40, 2), frames (B,)), labels (B, 20)) whose clip i has frames[i] real
    frames (all equal to i + 1, so a clip can be told by its values) and characters[i] character ids."""
    count = len(frames)
    spectrogram = np.zeros((count, 40, 2), "float32")
    labels = np.zeros((count, 20), "int64")
    for i, (real, length) in enumerate(zip(frames, characters, strict=True)):
        spectrogram[i, :real] = i + 1
        labels[i, :length] = RNG.integers(1, 28, length)
    return tf.data.Dataset.from_tensor_slices(((spectrogram, np.array(frames, "int64")), labels)).batch(batch_size)


def test_batches_are_cut_to_their_longest_clip_and_longest_transcript():
    batches = clip_batches([7, 12, 5], [2, 5, 3], 3)
    (spectrogram, frames), labels = next(iter(crop_batches(batches)))
    assert spectrogram.shape == (3, 12, 2)  # 12 frames: a multiple of the model's 2x time reduction
    assert labels.shape == (3, 5)  # the longest transcript, not one id per step
    whole = next(iter(batches))
    np.testing.assert_array_equal(labels, whole[1][:, :5])
    assert np.all(whole[1][:, 5:] == 0)  # only padding was cut


def test_length_sorted_batches_hold_every_clip_once_in_batches_of_similar_length():
    count, batch = 64, 4
    frames = list(RNG.integers(2, 40, count))
    batches = list(length_sorted_batches(clip_batches(frames, [1] * count, batch).shuffle(64, seed=1), batch, 4, 0))
    seen = sorted(int(v) for (spectrogram, _), _ in batches for v in spectrogram[:, 0, 0].numpy())
    assert seen == list(range(1, count + 1))  # each clip exactly once, batches still of `batch`
    assert all(len(b[1]) == batch for b in batches)
    # Sorted within windows of 4 batches, a batch spans far fewer frames than a random batch does.
    spans = [int(f.numpy().max() - f.numpy().min()) for (_, f), _ in batches]
    random_spans = [max(frames[i : i + batch]) - min(frames[i : i + batch]) for i in range(0, count, batch)]
    assert np.mean(spans) < np.mean(random_spans) / 2
    for (spectrogram, f), _ in batches:  # a clip keeps its own frame count
        np.testing.assert_array_equal(f.numpy(), [frames[int(v) - 1] for v in spectrogram[:, 0, 0].numpy()])


def test_speed_perturbation_resamples_time_and_changes_the_real_frame_count():
    ramp = np.tile(np.arange(24, dtype="float32")[None, :, None], (3, 1, 2))  # frame t holds t
    frames = np.array([24, 20, 10], "int32")
    ramp[1, 20:], ramp[2, 10:] = 0, 0
    out, length = speed_perturb(tf.constant(ramp), tf.constant(frames), tf.constant([0.5, 1.0, 2.0]))
    out, length = out.numpy(), length.numpy()
    assert list(length) == [24, 20, 5]  # half speed: twice as long, cut at F; double speed: half as long
    np.testing.assert_allclose(out[0, :, 0], np.arange(24) * 0.5, atol=1e-6)  # interpolated half-frames
    np.testing.assert_allclose(out[1], ramp[1], atol=1e-6)  # rate 1 changes nothing
    np.testing.assert_allclose(out[2, :5, 0], [0, 2, 4, 6, 8], atol=1e-6)
    assert np.all(out[2, 5:] == 0)  # past the new end: padding


def test_vtlp_warps_low_bins_by_the_factor_and_keeps_the_edges():
    bins = np.tile(np.arange(11, dtype="float32")[None, None], (3, 4, 1))  # bin m holds m
    out = vtlp_warp(tf.constant(bins), tf.constant([0.9, 1.0, 1.1])).numpy()[:, 0]
    np.testing.assert_allclose(out[1], np.arange(11), atol=1e-6)
    for row, factor in ((out[0], 0.9), (out[2], 1.1)):
        np.testing.assert_allclose(row[:5], np.arange(5) * factor, atol=1e-5)  # below the knee: m * factor
        assert row[0] == 0 and abs(row[-1] - 10) < 1e-5 and np.all(np.diff(row) > 0)  # edges fixed, monotone


def test_time_masks_stay_within_their_share_of_each_clip():
    x = (tf.ones((64, 100, 4)), tf.constant([100] * 32 + [30] * 32, tf.int64))
    options = Augmentation(time_masks=1, time_mask_frames=80, time_mask_fraction=0.2, frequency_masks=0,
                           max_shift_frames=0, noise=0.0)  # fmt: skip
    spectrogram, _ = augment(x, tf.constant([1, 2], tf.int64), options)
    masked = (spectrogram.numpy()[:, :, 0] == 0).sum(1) - (100 - x[1].numpy())  # zeros within the real frames
    assert masked[:32].max() <= 20 and masked[32:].max() <= 6  # at most 20 % of 100 and of 30 frames
    assert masked[:32].max() > 6  # long clips do get longer masks than short ones could


def test_speed_and_warp_augmentation_keep_padding_silent():
    x = tuple(tf.constant(v) for v in inputs())
    options = Augmentation(time_masks=0, frequency_masks=0, max_shift_frames=0, noise=0.0, speed=0.1, warp=0.1)
    spectrogram, frames = (t.numpy() for t in augment(x, tf.constant([3, 4], tf.int64), options))
    assert np.all(np.abs(frames - x[1].numpy()) <= np.ceil(x[1].numpy() * 0.12)) and np.all(frames <= 24)
    for row, real in zip(spectrogram, frames, strict=True):
        assert np.all(row[real:] == 0) and np.all(np.abs(row[:real]).sum(-1) > 0)
    assert not np.allclose(spectrogram, x[0].numpy())


def test_greedy_transcript_accuracy_counts_exact_greedy_transcripts_only():
    metric = GreedyTranscriptAccuracy()
    a, b, c = letters("a")[0], letters("b")[0], letters("c")[0]
    written = [one_hot_logits([0, a, a, 0, b, 0]), one_hot_logits([0, a, 0, b, b, c]), one_hot_logits([a] * 6)]
    labels = np.array([[a, b, 0], [a, b, 0], [a, 0, 0]])  # "ab", "ab", "a"; the second clip writes "abc"
    metric.update_state(tf.constant(labels), tf.constant(np.concatenate(written)))
    assert abs(float(metric.result()) - 2 / 3) < 1e-6
    # Labels cut to the batch's longest transcript (crop_batches) score the same; a longer output never matches.
    metric.reset_state()
    metric.update_state(tf.constant(labels[:, :2]), tf.constant(np.concatenate(written)))
    assert abs(float(metric.result()) - 2 / 3) < 1e-6
    model = build_speech_transformer(tiny_config())
    logs = model.evaluate(inputs(), np.zeros((4, 3), "int64") + 1, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy"} and 0.0 <= logs["accuracy"] <= 1.0
