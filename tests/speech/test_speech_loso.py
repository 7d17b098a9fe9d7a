"""The leave-one-speaker-out harness (tasks/speech/bench_loso.py): its folds and its per-fold standardization."""
import numpy as np

from tasks.speech import bench_loso

SPEAKERS = ("ann", "bob", "cat", "dan")


def synthetic_clips(per_speaker: int = 20) -> dict:
    """Four speakers whose log-mels differ by a speaker offset; half of each speaker's clips "test" in the own split."""
    rng = np.random.default_rng(0)
    count = per_speaker * len(SPEAKERS)
    speaker = np.repeat(SPEAKERS, per_speaker)
    offset = np.repeat(np.arange(len(SPEAKERS)) * 10.0, per_speaker)
    frames = rng.integers(3, 8, count)
    log_mel = rng.normal(size=(count, 8, 3)) + offset[:, None, None]
    log_mel[np.arange(8)[None] >= frames[:, None]] = 99.0  # padding: must never count
    return {"log_mel": log_mel.astype("float32"), "frames": frames, "characters": np.ones((count, 8), "int64"),
            "speaker": speaker, "split": np.tile(["train", "test"], count // 2),
            "transcript": np.tile(["one", "two", "three", "four"], count // 4)}  # fmt: skip


def test_each_speaker_is_tested_once_with_an_eval_voice_that_never_trains():
    clips = synthetic_clips()
    folds = bench_loso.folds(clips, seed=0, eval_fraction=0.1)
    assert set(folds) == {*SPEAKERS, bench_loso.STANDARD}
    for test in SPEAKERS:
        voices = {s: set(clips["speaker"][folds[test] == s]) for s in ("train", "eval", "test")}
        assert voices["test"] == {test} and len(voices["eval"]) == 1 and len(voices["train"]) == 2
        assert not voices["eval"] & voices["train"]
    standard = folds[bench_loso.STANDARD]
    assert list(standard[clips["split"] == "test"]) == ["test"] * 40 and (standard == "eval").sum() > 0


def test_standardization_is_fitted_on_the_train_speakers_real_frames_only():
    clips = synthetic_clips()
    splits = bench_loso.folds(clips, seed=0, eval_fraction=0.1)["ann"]  # train: cat and dan (offsets 20 and 30)
    data = bench_loso.standardized(clips, splits)
    train = data["train"]
    real = np.arange(8)[None] < train["frames"][:, None]
    values = train["spectrogram"][real]  # (real train frames, M)
    np.testing.assert_allclose(values.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(values.std(0), 1.0, atol=1e-4)
    assert np.all(train["spectrogram"][~real] == 0)  # padding stays 0
    # The test speaker (offset 0) sits far below the train speakers' mean: nothing of it was fitted.
    test = data["test"]
    assert test["spectrogram"][np.arange(8)[None] < test["frames"][:, None]].mean() < -2
