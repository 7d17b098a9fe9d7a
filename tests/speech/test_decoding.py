"""Speech decoding is closed-vocabulary only where declared, and the scores say what it cost.

A copy of the shipped config pointed at a user's clips decodes greedily (open vocabulary); the
Scorer reports greedy accuracy and CER beside the served decoding's, counts the eval and test
transcripts outside the lexicon, and warns when lexicon decoding meets any.
"""
import logging
import shutil

import numpy as np
import pytest
import tensorflow as tf

from components import examples_io, export
from data.notices import NOTICE_LOGGER
from pipeline.config import load_config, pipeline_config_path
from tasks.speech import features, report, scores, vocabulary
from tasks.speech.config import SpeechConfig

ALPHABET = "abcdefghijklmnopqrstuvwxyz' "


def near_miss_logits() -> np.ndarray:
    """(1, 6, A + 1) logits that greedy decoding reads as "eigh" and lexicon decoding as "eight"
    (the last step leans towards blank but gives "t" some weight)."""
    path = [0, *[ALPHABET.index(c) + 1 for c in "eigh"], 0]
    logits = np.eye(len(ALPHABET) + 1, dtype="float32")[path][None] * 10.0
    logits[0, -1, ALPHABET.index("t") + 1] = 8.0
    return logits


def decoded(config) -> str:
    from tasks.speech.module import decoder

    return decoder(config, ["eight", "five", "eight", "nine"])(tf.constant(near_miss_logits())).numpy()[0].decode()


def test_the_code_default_is_an_open_vocabulary():
    assert SpeechConfig().vocabulary == vocabulary.OPEN
    config = load_config("speech", overrides=["speech={}"])  # a config that says nothing about decoding
    assert config.data is None and vocabulary.decoding(config) == vocabulary.GREEDY


def test_the_shipped_digits_config_declares_a_closed_vocabulary_for_the_vendored_recordings_only(tmp_path):
    shipped = load_config("speech")
    assert shipped.data is None and vocabulary.decoding(shipped) == vocabulary.LEXICON
    assert decoded(shipped) == "eight"  # the near miss becomes the word meant
    # A user copies the shipped config and points DATA at their own clips: open vocabulary.
    copied = tmp_path / "my_speech.yaml"
    shutil.copy(pipeline_config_path("speech"), copied)
    theirs = load_config("speech", str(copied), data=str(tmp_path / "clips"))
    assert theirs.speech.vocabulary == vocabulary.CLOSED_IF_VENDORED  # the copy says what the shipped one says
    assert vocabulary.decoding(theirs) == vocabulary.GREEDY
    assert decoded(theirs) == "eigh"  # any spelling: nothing forces it into a train transcript
    # ...unless they declare their own data closed.
    declared = load_config("speech", str(copied), ["speech.vocabulary=closed"], data=str(tmp_path / "clips"))
    assert vocabulary.decoding(declared) == vocabulary.LEXICON and decoded(declared) == "eight"
    # And an open declaration holds for the vendored digits too.
    assert vocabulary.decoding(load_config("speech", overrides=["speech.vocabulary=open"])) == vocabulary.GREEDY


def test_transcripts_outside_the_lexicon_are_counted_and_warned_about_under_lexicon_decoding_only():
    lexicon = vocabulary.lexicon_of(["two", "one", "two", "one"])
    assert lexicon == ["one", "two"]
    assert vocabulary.count_outside(["one", "three", "two", "three", "tw"], lexicon) == 3
    outside, examples = {"eval": 0, "test": 2}, {"eval": 5, "test": 7}
    said = vocabulary.warning(vocabulary.LEXICON, 2, outside, examples)
    assert "0 of 5 eval, 2 of 7 test transcripts are not among the 2 train transcripts" in said
    assert "speech.vocabulary: open" in said
    greedy = vocabulary.warning(vocabulary.GREEDY, 2, outside, examples)  # new words may be expected, but are said
    assert greedy is not None and "never heard them" in greedy and "can never write" not in greedy
    assert vocabulary.warning(vocabulary.LEXICON, 2, {"eval": 0, "test": 0}, examples) is None


SAID = {  # stand-in model outputs: the evaluation signature echoes them from each example
    features.TRANSCRIPT_KEY: "said_model",
    features.GREEDY_TRANSCRIPT_KEY: "said_greedy",
    features.baseline_output_key(features.TRANSCRIPT_KEY): "said_baseline",
}
CLIPS = {  # split -> (truth, served, greedy, baseline) per clip; the lexicon is "eight", "two"
    "eval": [("eight", "eight", "eigh", "two"), ("two", "two", "twoo", "two"), ("five", "two", "fiv", "two")],
    "test": [("eight", "eight", "eight", "eight"), ("nine", "eight", "nin", "two")],
}


def stand_in_candidate(path, lexicon: list[str], how: str) -> None:
    """A SavedModel with the candidate's contract as the Scorer reads it: an `evaluation` signature on
    serialized tf.Examples (its transcripts echoed from the examples, so that the test sets them) and
    the lexicon and decoding variables the Trainer saves."""
    root = tf.Module()
    setattr(root, vocabulary.LEXICON_ATTRIBUTE, tf.Variable(lexicon, dtype=tf.string, trainable=False))
    setattr(root, vocabulary.DECODING_ATTRIBUTE, tf.Variable(how, dtype=tf.string, trainable=False))
    spec = {name: tf.io.FixedLenFeature([1], tf.string) for name in SAID.values()}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=export.EXAMPLES_INPUT)])
    def evaluation(examples):
        parsed = tf.io.parse_example(examples, spec)
        return {output: parsed[name][:, 0] for output, name in SAID.items()}  # (B,) each

    tf.saved_model.save(root, str(path), signatures={export.EVALUATION_SIGNATURE: evaluation})


def write_examples(uri) -> None:
    for split, clips in CLIPS.items():
        examples_io.write_split(str(uri), split, (
            examples_io.to_tf_example({features.TRANSCRIPT_KEY: truth, **dict(zip(SAID.values(), outputs, strict=True))})
            for truth, *outputs in clips
        ))  # fmt: skip


@pytest.mark.parametrize("how", [vocabulary.LEXICON, vocabulary.GREEDY])
def test_the_scores_give_greedy_cer_beside_the_served_decoding_and_the_clips_outside_the_lexicon(tmp_path, caplog, how):
    stand_in_candidate(tmp_path / "model", ["eight", "two"], how)
    write_examples(tmp_path / "examples")
    with caplog.at_level(logging.WARNING, logger=NOTICE_LOGGER):
        result = scores.score(str(tmp_path / "model"), str(tmp_path / "examples"), {})
    assert result["decoding"] == how and result["lexicon_size"] == 2
    assert result["examples"] == {"eval": 3, "test": 2}
    assert result["outside_lexicon"] == {"eval": 1, "test": 1}  # "five", "nine"
    # eval: 12 reference characters. Served: "five" -> "two" is 4 edits; greedy: one edit per clip;
    # the challenger: "eight" -> "two" is 5 edits ("eig" -> "two", "ht" dropped), "five" -> "two" 4.
    assert result["eval"]["model"] == pytest.approx({"accuracy": 2 / 3, "cer": 4 / 12})
    assert result["eval"]["model_greedy"] == pytest.approx({"accuracy": 0.0, "cer": 3 / 12})
    assert result["eval"]["baseline"] == pytest.approx({"accuracy": 1 / 3, "cer": (5 + 4) / 12})
    # test: 9 reference characters. Served: "nine" -> "eight" is 4 edits (n->e, n->g, e->h, +t); greedy: 1.
    assert result["test"]["model_greedy"] == pytest.approx({"accuracy": 0.5, "cer": 1 / 9})
    assert result["test"]["model"] == pytest.approx({"accuracy": 0.5, "cer": 4 / 9})
    warnings = [r.getMessage() for r in caplog.records if r.name == NOTICE_LOGGER]
    assert len(warnings) == 1 and "1 of 3 eval, 1 of 2 test transcripts" in warnings[0], warnings
    assert ("can never write them" in warnings[0]) == (how == vocabulary.LEXICON)
    # The report's decoding section says the same, split by split.
    said, header, rows = report.decoding_table(result)
    assert ("lexicon: the likeliest of the 2" in said) == (how == vocabulary.LEXICON)
    assert header[1:3] == ["clips", "outside the lexicon"] and "greedy CER" in header
    assert rows[1][:3] == ["test", 2, 1] and rows[1][-1] == pytest.approx(1 / 9)
