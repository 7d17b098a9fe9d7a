"""Where clips and transcripts come from, how they are split, and what the ExampleGen checks."""
import collections

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from components import anomaly_rows, examples_io
from components.transcripts import edit_distance, transcript_scores
from data import schemas
from data.config import PipelineConfig
from pipeline.config import load_config
from tasks.speech import features
from tasks.speech import schema_check as speech_schema
from tasks.speech import source as speech_source
from tasks.speech.config import SpeechConfig
from tasks.speech.example_gen import clip_features, decode_status, write_splits
from tests.speech.clips import RATE, write_folder


def test_the_vendored_recordings_carry_their_transcripts_speakers_and_own_split():
    folder = str(speech_source.DEFAULT_FOLDER)
    frame = speech_source.list_clips(folder, SpeechConfig())
    assert len(frame) == 2000
    assert set(frame["speaker"]) == {"george", "jackson", "lucas", "nicolas"}
    assert frame["transcript"].value_counts().to_dict() == {w: 200 for w in speech_source.DIGIT_WORDS}
    row = frame[frame["file"] == "7_jackson_3.wav"].iloc[0]
    assert (row["transcript"], row["speaker"], row["split"]) == ("seven", "jackson", "test")
    assert (frame["split"] == "test").sum() == 200  # index 0-4 of each speaker and digit
    assert (speech_source.DEFAULT_FOLDER / "NOTICE.md").read_text().count("CC BY-SA 4.0") >= 1


def test_the_data_sets_own_split_with_a_seeded_eval_share_of_its_train_part():
    folder = str(speech_source.DEFAULT_FOLDER)
    frame = speech_source.list_clips(folder, SpeechConfig())
    own = SpeechConfig(split_by="dataset")
    splits, duplicates, how = speech_source.split_rows(folder, frame, own, seed=1)
    assert collections.Counter(splits) == {"train": 1620, "eval": 180, "test": 200}
    assert list(splits[frame["split"].to_numpy() == "test"]) == ["test"] * 200
    assert duplicates == 0 and "own split" in how
    eval_words = frame["transcript"][splits == "eval"].value_counts()
    assert set(eval_words) == {18}  # stratified by transcript
    again, _, _ = speech_source.split_rows(folder, frame, own, seed=1)
    assert list(again) == list(splits)


def test_speaker_disjoint_split_keeps_test_voices_out_of_training():
    folder = str(speech_source.DEFAULT_FOLDER)
    speech = SpeechConfig(split_by="speaker")
    frame = speech_source.list_clips(folder, speech)
    splits, _, _ = speech_source.split_rows(folder, frame, speech, seed=5)
    voices = {split: set(frame["speaker"][splits == split]) for split in ("train", "eval", "test")}
    assert len(voices["test"]) == 1 and len(voices["eval"]) == 1 and len(voices["train"]) == 2
    assert not voices["test"] & (voices["train"] | voices["eval"]) and not voices["eval"] & voices["train"]
    assert (splits == "test").sum() == 500 and (splits == "eval").sum() == 500


def test_split_by_auto_splits_by_speaker_from_three_speakers():
    folder = str(speech_source.DEFAULT_FOLDER)
    frame = speech_source.list_clips(folder, SpeechConfig())
    auto, _, how = speech_source.split_rows(folder, frame, SpeechConfig(), seed=5)
    speaker, _, _ = speech_source.split_rows(folder, frame, SpeechConfig(split_by="speaker"), seed=5)
    assert how == speech_source.SPEAKER_DISJOINT and list(auto) == list(speaker)
    # Two speakers: no voice of its own for eval, so the data set's own split.
    two = frame[frame["speaker"].isin(["george", "lucas"])].reset_index(drop=True)
    splits, _, how = speech_source.split_rows(folder, two, SpeechConfig(), seed=5)
    assert "own split" in how and list(splits[two["split"] == "test"]) == ["test"] * (two["split"] == "test").sum()
    # Speakers unknown for some clips: likewise.
    unnamed = frame.assign(speaker=np.where(np.arange(len(frame)) % 7 == 0, "", frame["speaker"]))
    assert "own split" in speech_source.split_rows(folder, unnamed, SpeechConfig(), seed=5)[2]


def test_a_transcripts_csv_names_files_and_its_transcripts_are_normalized(tmp_path):
    folder = write_folder(tmp_path / "clips", per_word=4)
    frame = speech_source.list_clips(str(folder), SpeechConfig())
    assert len(frame) == 8 and set(frame["transcript"]) == {"ab", "ba"}  # "AB" lower-cased
    assert set(frame["speaker"]) == {"s0", "s1", "s2", "s3"}
    pd.DataFrame({"file": ["missing.wav"], "transcript": ["ab"]}).to_csv(folder / "transcripts.csv", index=False)
    with pytest.raises(ValueError, match="not WAV files in the folder, e.g. 'missing.wav'"):
        speech_source.list_clips(str(folder), SpeechConfig())


def test_without_a_csv_files_must_follow_the_free_spoken_digit_names(tmp_path):
    folder = write_folder(tmp_path / "clips", per_word=2)
    (folder / "transcripts.csv").unlink()
    with pytest.raises(ValueError, match=r"not named \{digit\}_\{speaker\}_\{index\}.wav, e.g. 'ab_000.wav'"):
        speech_source.list_clips(str(folder), SpeechConfig())


def test_transcript_status_names_what_is_wrong():
    assert speech_source.transcript_status("seven", SpeechConfig().alphabet) == "ok"
    assert speech_source.transcript_status("", SpeechConfig().alphabet) == "empty"
    assert "'7é'" in speech_source.transcript_status("s7é", SpeechConfig().alphabet)


def test_a_truncated_wav_is_reported_and_a_good_one_measured():
    encoded = open("tasks/speech/fsdd/7_jackson_0.wav", "rb").read()
    status, found = decode_status(encoded)
    assert status == features.AUDIO_OK
    assert found == {features.DURATION_MS_KEY: 432, features.SAMPLE_RATE_KEY: 8000, features.AUDIO_CHANNELS_KEY: 1}
    status, found = decode_status(encoded[:100])
    assert status.startswith("does not decode") and "Data too short" in status and found == {}
    assert "function_node" not in status


def test_bad_clips_reach_the_examples_and_the_schema_names_their_files(tmp_path):
    folder = write_folder(tmp_path / "clips", per_word=4)
    (folder / "ab_001.wav").write_bytes((folder / "ab_001.wav").read_bytes()[:300])  # truncated
    (folder / "ba_002.wav").write_bytes(speech_source.wav_bytes(np.zeros(RATE * 3), RATE))  # 3 s: too long
    rows = pd.read_csv(folder / "transcripts.csv", dtype=str)
    rows.loc[rows["file"] == "ba_003.wav", "transcript"] = "b4"
    rows.to_csv(folder / "transcripts.csv", index=False)
    speech = SpeechConfig(split_by="random", split_fractions=[0.5, 0.25, 0.25])
    counts, _, _ = write_splits(str(folder), speech, 0, str(tmp_path / "examples"))
    assert sum(counts.values()) == 8
    records = [r for split in ("train", "eval", "test") for r in examples_io.read_split(str(tmp_path / "examples"), split)]
    schema = schemas.load(load_config("speech").schema_path)
    names = [features.AUDIO_STATUS_KEY, features.DURATION_MS_KEY, features.TRANSCRIPT_STATUS_KEY]
    found = anomaly_rows.offending_examples(records, schema, names)
    assert "file 'ab_001.wav'" in found[features.AUDIO_STATUS_KEY][0]
    assert "file 'ba_002.wav': 3000 is outside [50, 2000]" == found[features.DURATION_MS_KEY][0]
    assert "file 'ba_003.wav'" in found[features.TRANSCRIPT_STATUS_KEY][0] and "'4'" in found[features.TRANSCRIPT_STATUS_KEY][0]


def test_a_serving_example_carries_only_the_audio():
    example = examples_io.to_tf_example(clip_features(b"RIFF...."))
    assert set(example.features.feature) == {features.AUDIO_KEY}


def test_the_default_config_and_schema_agree_and_a_changed_duration_is_named():
    config = load_config("speech")
    text = open(config.schema_path).read()
    schemas.check(config, text, speech_schema.problems)
    config = PipelineConfig.from_dict({**config.to_dict(), "speech": {**config.to_dict()["speech"], "max_seconds": 3.0}})
    with pytest.raises(schemas.SchemaMismatch, match=r"give \[50, 3000\] ms.*\[50, 2000\]"):
        schemas.check(config, text, speech_schema.problems)


def test_edit_distance_and_transcript_scores():
    assert edit_distance("seven", "seven") == 0
    assert edit_distance("seven", "sevn") == 1
    assert edit_distance("nine", "one") == 2
    assert edit_distance("", "ab") == 2
    scores = transcript_scores(["seven", "nine"], ["seven", "one"])
    assert scores == {"accuracy": 0.5, "cer": 2 / 9}


def test_speech_config_rejects_what_it_cannot_use():
    with pytest.raises(ValueError, match="split_by 'voice'"):
        SpeechConfig(split_by="voice").validate()
    with pytest.raises(ValueError, match="lower-case"):
        SpeechConfig(alphabet="ABC").validate()
    with pytest.raises(ValueError, match="vocabulary 'lexicon' must be one of open, closed, closed_if_vendored"):
        SpeechConfig(vocabulary="lexicon").validate()
    assert tf.io.gfile.exists(str(speech_source.DEFAULT_FOLDER))


def test_a_transcript_longer_than_its_clip_can_say_is_flagged():
    from tasks.speech.example_gen import ctc_steps_needed

    assert ctc_steps_needed("seven") == 5 and ctc_steps_needed("three") == 6  # "ee" needs a blank between
    short = speech_source.wav_bytes(np.zeros(int(0.06 * RATE)), RATE)  # 60 ms: 6 frames at a 5 ms hop, 3 steps
    example = examples_io.to_tf_example(clip_features(short, "ab", "a.wav", speech=SpeechConfig()))
    assert example.features.feature[features.TRANSCRIPT_STATUS_KEY].bytes_list.value[0] == b"ok"
    example = examples_io.to_tf_example(clip_features(short, "seven", "a.wav", speech=SpeechConfig()))
    status = example.features.feature[features.TRANSCRIPT_STATUS_KEY].bytes_list.value[0].decode()
    assert status.startswith("too long for its clip: 5 output steps needed, the model has 3")


@pytest.mark.slow
def test_make_schema_drafts_a_speech_schema_the_config_agrees_with(tmp_path, capsys):
    from pipeline import draft_schema

    folder = write_folder(tmp_path / "clips", per_word=6)
    schema_path = tmp_path / "schema.pbtxt"
    config_yaml = tmp_path / "speech.yaml"
    config_yaml.write_text(f"task: speech\nschema: {schema_path}\nspeech:\n  split_by: random\n  max_seconds: 1.5\n")
    argv = ["--task", "speech", "--data", str(folder), "--config", str(config_yaml), "--output-dir", str(tmp_path / "out")]
    assert draft_schema.main(argv) == 0
    assert "train holds (min, max)" in capsys.readouterr().out
    config = load_config("speech", str(config_yaml))
    schemas.check(config, schema_path.read_text(), speech_schema.problems)
    drafted = {f.name: f for f in schemas.load(str(schema_path)).feature}
    assert (drafted[features.DURATION_MS_KEY].int_domain.min, drafted[features.DURATION_MS_KEY].int_domain.max) == (50, 1500)
