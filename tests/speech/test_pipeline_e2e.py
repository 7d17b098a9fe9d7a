"""End-to-end speech pipeline on generated tone clips with transcripts (LocalDagRunner, minutes): `pytest -m e2e`."""
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from components import examples_io
from pipeline import inspect_mlmd
from pipeline.config import load_config
from tasks.speech import features
from tasks.speech.example_gen import clip_features
from tasks.speech.module import SAMPLES_SIGNATURE
from tasks.speech.predict import transcribe
from tasks.speech.source import wav_bytes
from tests.e2e import bad_inputs, serving_checks
from tests.e2e.runs import run_task
from tests.speech.clips import RATE, WORDS, tone_clip, write_folder

pytestmark = pytest.mark.e2e

PER_WORD = 100
TINY = [  # two tone words, a small model and budget (it reaches eval accuracy 0.97 in-process)
    "speech.split_by=random",
    "speech.split_fractions=[0.6, 0.2, 0.2]",
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


@pytest.fixture(scope="module")
def pushed_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    folder = write_folder(root / "clips", PER_WORD)
    assert run(root / "out", folder) == 0
    config = load_config("speech", output_dir=str(root / "out"))
    return root, folder, config


def test_a_transcriber_that_beats_the_mfcc_baseline_is_pushed(pushed_run):
    _, _, config = pushed_run
    report = inspect_mlmd.collect(config.metadata_path)
    assert report["evaluation"]["blessed"], report["evaluation"].get("why")
    assert len(report["pushed_models"]) == 1
    scores = report["speech_scores"]
    for split in ("eval", "test"):
        assert set(scores[split]) == {"model", "baseline"}
        assert set(scores[split]["model"]) == {"accuracy", "cer"}
    # "ab" and "ba" have the same per-clip MFCC statistics: only the order of the tones differs.
    assert scores["eval"]["model"]["accuracy"] > scores["eval"]["baseline"]["accuracy"]
    assert scores["test"]["model"]["accuracy"] >= 0.8


def test_serving_on_wav_bytes_and_on_samples_equals_the_in_process_transcript(pushed_run):
    _, _, config = pushed_run
    rng = np.random.default_rng(7)
    words = [word for word in WORDS for _ in range(3)]
    samples = [tone_clip(word, rng) for word in words]
    clips = [wav_bytes(s, RATE) for s in samples]
    records = [examples_io.to_tf_example(clip_features(clip)).SerializeToString() for clip in clips]
    # tf.Example and raw-bytes signatures, in process and over REST, all give the same transcripts.
    serving_checks.check_predict_formats("speech", config.serving_dir, records, {features.AUDIO_KEY: clips})
    model = tf.saved_model.load(serving_checks.serving_model.latest_model_dir(config.serving_dir))
    said = transcribe(model.signatures["serving_default"], clips)
    assert sum(s == w for s, w in zip(said, words, strict=True)) >= 5, said  # new clips, mostly right
    # Float samples (JSON clients without a WAV file; one clip per call, as they differ in length)
    # go through the same graph: the same transcripts.
    signature = model.signatures[SAMPLES_SIGNATURE]
    by_samples = [
        signature(samples=tf.constant(s[None], tf.float32), sample_rate=tf.constant([RATE]))[features.TRANSCRIPT_KEY].numpy()[0].decode()
        for s in samples
    ]
    assert by_samples == said


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


@pytest.mark.parametrize("damage, words", BAD_FOLDERS, ids=[d.__name__ for d, _ in BAD_FOLDERS])
def test_a_bad_clip_stops_the_run_at_the_gate_naming_the_file(pushed_run, tmp_path, capsys, damage, words):
    root, _, config = pushed_run
    folder = write_folder(tmp_path / "clips", PER_WORD)
    damage(folder)
    before = bad_inputs.snapshot(config.serving_dir)
    code = run(root / "out", folder)
    bad_inputs.assert_stopped_at_the_gate(code, capsys.readouterr().err, words, config, before)


def test_inspect_json_has_speech_scores_and_the_report_its_sections(pushed_run, capsys):
    from pipeline.report import build_report

    _, _, config = pushed_run
    argv = ["--task", "speech", "--output-dir", str(config.output_dir), "--json", "--run", "0"]
    assert inspect_mlmd.main(argv) == 0
    text = capsys.readouterr().out
    data = json.loads(text[text.index("{"):])
    assert {"model", "baseline"} <= set(data["speech_scores"]["test"])
    page = build_report(config, run="0")
    for title in ("Test clips: spectrograms and transcripts", "Confusions (test split)"):
        section = page.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]
        assert "Not available" not in section, section[:500]
        assert "data:image/png;base64," in section
