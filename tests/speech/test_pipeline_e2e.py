"""End-to-end speech pipeline on generated tone clips with transcripts (LocalDagRunner, minutes): `pytest -m e2e`.

The folder declares its own split (every fifth clip of each word in test) and puts UNSEEN_WORD
clips in test only; the run declares the vocabulary closed, so the served transcripts are
lexicon-decoded, the Scorer must count those clips outside the lexicon and the run must warn.
"""
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from components import examples_io
from pipeline import inspect_mlmd
from pipeline.config import load_config
from pipeline.run_local import LOG_FILE
from tasks.speech import features, vocabulary
from tasks.speech.example_gen import clip_features
from tasks.speech.module import SAMPLES_SIGNATURE
from tasks.speech.predict import transcribe
from tasks.speech.source import wav_bytes
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task
from tests.speech.clips import RATE, WORDS, tone_clip, write_folder

pytestmark = pytest.mark.e2e

PER_WORD = 100
UNSEEN = 4  # UNSEEN_WORD clips, all in test
TEST_SEEN = len(WORDS) * PER_WORD // 5  # every fifth clip of each word: 40
EVAL_FRACTION = 0.25  # of the 160 train clips: 40 eval, 120 train
SELECTION = 20  # the eval split's selection part; the other 20 clips are the gate's (data/splits.py)
TINY = [  # two tone words, a small model and budget (it reaches eval accuracy 0.97 in-process)
    "speech.split_by=dataset",
    f"speech.eval_fraction={EVAL_FRACTION}",
    "speech.vocabulary=closed",  # two words: a closed vocabulary, declared (a copied config would decode greedily)
    "model.num_layers=2",
    "model.model_dim=64",
    "model.mlp_dim=128",
    "model.num_heads=2",
    "model.learning_rate=0.003",
    "tuner.max_trials=1",
    "tuner.epochs=1",
    "tuner.steps_per_epoch=2",
    "trainer.epochs=30",
    "trainer.batch_size=16",
    "beam.direct_num_workers=1",
]


def run(output_dir, folder, overrides=()):
    return run_task("speech", output_dir, *TINY, *overrides, data=folder)


def clips_folder(path: pathlib.Path) -> pathlib.Path:
    return write_folder(path, PER_WORD, unseen=UNSEEN)


@pytest.fixture(scope="module")
def pushed_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    folder = clips_folder(root / "clips")
    assert run(root / "out", folder) == 0
    config = load_config("speech", output_dir=str(root / "out"))
    log = (pathlib.Path(config.output_dir) / "speech" / LOG_FILE).read_text()  # before other runs add to it
    return root, folder, config, log


def test_a_transcriber_that_beats_the_mfcc_baseline_is_pushed(pushed_run):
    _, _, config, _ = pushed_run
    report = inspect_mlmd.collect(config.metadata_path)
    assert report["evaluation"]["blessed"], report["evaluation"].get("why")
    assert len(report["pushed_models"]) == 1
    scores = report["speech_scores"]
    assert scores["examples"] == {"eval": SELECTION, "test": TEST_SEEN + UNSEEN}
    gate = report["evaluation"]["gate"]  # the 20 gate clips: better than the challenger and the commonest word
    assert gate["baseline"]["verdict"] == "better" and gate["majority"]["verdict"] == "better"
    assert gate["baseline"]["examples"] == 40 - SELECTION
    for split in ("eval", "test"):
        assert set(scores[split]) == {"model", "model_greedy", "baseline"}
        for row in scores[split].values():
            assert set(row) == {"accuracy", "cer"} and 0 <= row["accuracy"] <= 1 and row["cer"] >= 0
    # "ab" and "ba" have the same per-clip MFCC statistics: only the order of the tones differs, so
    # the challenger is near 0.5 on the two words. At least 36 of the 44 test clips right means at
    # least 0.9 of the 40 that say a train word (a transcriber right half the time gets there with
    # probability below 1e-6), and lexicon decoding writes none of the 4 unseen ones.
    test = scores["test"]
    assert test["model"]["accuracy"] >= 36 / (TEST_SEEN + UNSEEN), test
    assert test["model"]["accuracy"] <= TEST_SEEN / (TEST_SEEN + UNSEEN) + 1e-9, test
    assert test["model"]["accuracy"] >= test["baseline"]["accuracy"] + 0.2, test
    assert scores["eval"]["model"]["accuracy"] > scores["eval"]["baseline"]["accuracy"]


def test_the_clips_outside_the_lexicon_are_counted_and_the_run_warns(pushed_run):
    _, _, config, log = pushed_run
    scores = inspect_mlmd.collect(config.metadata_path)["speech_scores"]
    assert scores["decoding"] == vocabulary.LEXICON and scores["lexicon_size"] == len(WORDS)
    assert scores["outside_lexicon"] == {"eval": 0, "test": UNSEEN}
    assert f"0 of {SELECTION} eval, {UNSEEN} of {TEST_SEEN + UNSEEN} test transcripts are not among the 2 train" in log


def test_serving_on_wav_bytes_and_on_samples_equals_the_in_process_transcript(pushed_run):
    _, _, config, _ = pushed_run
    rng = np.random.default_rng(7)
    words = [word for word in WORDS for _ in range(20)]
    samples = [tone_clip(word, rng) for word in words]
    clips = [wav_bytes(s, RATE) for s in samples]
    records = [examples_io.to_tf_example(clip_features(clip)).SerializeToString() for clip in clips]
    # tf.Example and raw-bytes signatures, in process and over REST, all give the same transcripts.
    checked = slice(18, 22)  # two clips of each word
    serving_checks.check_predict_formats("speech", config.serving_dir, records[checked], {features.AUDIO_KEY: clips[checked]})
    model = tf.saved_model.load(serving_checks.serving_model.latest_model_dir(config.serving_dir))
    said = transcribe(model.signatures["serving_default"], clips)
    # 40 new clips: each word right at least 16 times in 20 (one word always, or a coin, fails).
    for word in WORDS:
        right = sum(s == w for s, w in zip(said, words, strict=True) if w == word)
        assert right >= 16, (word, said)
    # Float samples (JSON clients without a WAV file; one clip per call, as they differ in length)
    # go through the same graph: the same transcripts.
    signature = model.signatures[SAMPLES_SIGNATURE]
    by_samples = [
        signature(samples=tf.constant(s[None], tf.float32), sample_rate=tf.constant([RATE]))[features.TRANSCRIPT_KEY].numpy()[0].decode()
        for s in samples[checked]
    ]
    assert by_samples == said[checked]


def truncated(folder: pathlib.Path) -> None:
    path = folder / "ba_007.wav"
    path.write_bytes(path.read_bytes()[:300])


def empty_transcript(folder: pathlib.Path) -> None:
    text = (folder / "transcripts.csv").read_text().replace("ab_005.wav,ab,", "ab_005.wav,,")
    (folder / "transcripts.csv").write_text(text)


BAD_FOLDERS = [  # (damage, words the error must contain)
    (truncated, ["feature 'audio_status'", "file 'ba_007.wav'", "does not decode"]),
    (empty_transcript, ["feature 'transcript_status'", "file 'ab_005.wav': 'empty' is not in the domain"]),
]


def test_a_bad_clip_stops_the_run_at_the_gate_naming_the_file(pushed_run, tmp_path, capsys):
    """One bad folder through the pipeline; every one of them in process, below."""
    root, _, config, _ = pushed_run
    damage, words = BAD_FOLDERS[0]
    folder = clips_folder(tmp_path / "clips")
    damage(folder)
    before = bad_inputs.snapshot(config.serving_dir)
    code = run(root / "out", folder)
    bad_inputs.assert_stopped_at_the_gate(code, capsys.readouterr().err, words, config, before)


@pytest.mark.parametrize("damage, words", BAD_FOLDERS, ids=[d.__name__ for d, _ in BAD_FOLDERS])
def test_each_bad_folder_stops_at_the_gate_naming_the_file(tmp_path, damage, words):
    """The pipeline's own code up to the AnomalyGate, in process (tests/e2e/bad_inputs.py)."""
    folder = clips_folder(tmp_path / "clips")
    damage(folder)
    message = bad_inputs.stop_in_process(load_config("speech", overrides=TINY), str(folder), tmp_path)
    assert message.startswith("Data validation failed")  # the gate's, not the ExampleGen's
    bad_inputs.assert_says(message, words)


def test_inspect_json_has_speech_scores_and_the_report_its_sections(pushed_run, capsys):
    from pipeline.report import build_report

    _, _, config, _ = pushed_run
    argv = ["--task", "speech", "--output-dir", str(config.output_dir), "--json", "--run", "0"]
    assert inspect_mlmd.main(argv) == 0
    text = capsys.readouterr().out
    data = json.loads(text[text.index("{"):])
    assert {"model", "model_greedy", "baseline"} <= set(data["speech_scores"]["test"])
    assert data["speech_scores"]["outside_lexicon"] == {"eval": 0, "test": UNSEEN}
    page = build_report(config, run="0")

    def section(title):
        found = page.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]
        assert "Not available" not in found, found[:500]
        return found

    for title in ("Test clips: spectrograms and transcripts", "Confusions (test split)"):
        assert "data:image/png;base64," in section(title)
    decoding = section("Decoding: the lexicon and greedy decoding (eval and test)")
    assert "likeliest of the 2 distinct train transcripts" in decoding and "greedy CER" in decoding
    assert f"<td>test</td><td>{TEST_SEEN + UNSEEN}</td><td>{UNSEEN}</td>" in decoding
