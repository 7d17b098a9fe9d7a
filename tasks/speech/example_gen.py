"""The speech writer: a folder of WAV files and transcripts -> tf.Examples in train/eval/test splits.

Each example carries the file's bytes (`audio`, as a serving client sends them), its
`transcript` (the label, lower case), `speaker`, `file` (its path under the folder) and
what decoding found: `audio_status` ("ok" or the decoder's error), `transcript_status`
("ok", "empty" or the characters outside `speech.alphabet`) and, for a WAV that decodes,
its duration, sample rate and channel count. Decoding uses `tf.audio.decode_wav`, the op
Transform and serving use, so the check and the model cannot disagree.

Nothing is dropped here: the curated schema (`tasks/speech/schema.pbtxt`) stops the run at
the AnomalyGate, which names the file.
"""

import re

import tensorflow as tf

from components import examples_io
from components.example_gen import Written
from data.config import PipelineConfig
from data.folders import read_bytes
from data.splits import SPLITS, subsample
from models.layers.conv_subsampling import TIME_REDUCTION
from tasks.speech import features
from tasks.speech import source as speech_source
from tasks.speech.config import SpeechConfig


def ctc_steps_needed(transcript: str) -> int:
    """Output steps CTC needs to write `transcript`: one per character, and a blank between repeats."""
    return len(transcript) + sum(a == b for a, b in zip(transcript, transcript[1:], strict=False))


def length_status(transcript: str, duration_ms: int, speech: SpeechConfig) -> str | None:
    """Why the model cannot write `transcript` in a clip this long, or None."""
    samples = min(speech.max_samples, int(duration_ms * speech.sample_rate / 1000))
    frames = max(1, 1 + (samples - speech.frame_length) // speech.frame_step)
    steps, needed = -(-frames // TIME_REDUCTION), ctc_steps_needed(transcript)
    if needed <= steps:
        return None
    return f"too long for its clip: {needed} output steps needed, the model has {steps} ({duration_ms} ms)"


def decode_status(encoded: bytes) -> tuple[str, dict[str, int]]:
    """(AUDIO_OK or the decoder's complaint, {duration_ms, sample_rate, audio_channels} when it decodes)."""
    try:
        audio, rate = tf.audio.decode_wav(encoded)  # (N, C) float32, scalar
    except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError, tf.errors.UnknownError) as error:
        message = error.message.splitlines()[0] if error.message else type(error).__name__
        message = re.sub(r"\{\{function_node [^}]*\}\}\s*|\s*\[Op:\w+\]", "", message)  # TF's op decoration
        return f"does not decode: {message}"[:200], {}
    rate = int(rate)
    return features.AUDIO_OK, {
        features.DURATION_MS_KEY: int(round(1000 * int(audio.shape[0]) / max(rate, 1))),
        features.SAMPLE_RATE_KEY: rate,
        features.AUDIO_CHANNELS_KEY: int(audio.shape[1]),
    }


def clip_features(
    audio: bytes,
    transcript: str | None = None,
    file: str | None = None,
    speaker: str = "",
    speech: SpeechConfig | None = None,
) -> dict:
    """A clip example's features: the WAV bytes and, when known, its transcript, speaker, file
    and checks (against `speech`'s alphabet and lengths).

    A serving client sends only `audio`; the ExampleGen adds what validation checks."""
    values: dict = {features.AUDIO_KEY: audio}
    found = {}
    if file is not None:
        status, found = decode_status(audio)
        values.update({features.FILE_KEY: file, features.SPEAKER_KEY: speaker, features.AUDIO_STATUS_KEY: status})
        values.update({key: int(value) for key, value in found.items()})
    if transcript is not None:
        speech = speech or SpeechConfig()
        status = speech_source.transcript_status(transcript, speech.alphabet)
        if status == features.TRANSCRIPT_OK and features.DURATION_MS_KEY in found:
            status = length_status(transcript, found[features.DURATION_MS_KEY], speech) or status
        values.update({features.TRANSCRIPT_KEY: transcript, features.TRANSCRIPT_STATUS_KEY: status})
    return values


def write_splits(folder: str, speech: SpeechConfig, seed: int, output_uri: str) -> tuple[dict, int, str]:
    """One gzipped TFRecord file per split under `output_uri`; returns (counts per split,
    byte-identical duplicate files, how the split was made)."""
    frame = subsample(speech_source.list_clips(folder, speech), speech.max_examples, seed)
    splits, duplicates, how = speech_source.split_rows(folder, frame, speech, seed)
    counts = examples_io.write_frame(
        output_uri, frame, splits,
        lambda row: clip_features(read_bytes(folder, row.file), row.transcript, row.file, row.speaker, speech),
    )  # fmt: skip
    speakers = {split: sorted(set(frame["speaker"][splits == split]) - {""}) for split in SPLITS}
    if how == speech_source.SPEAKER_DISJOINT:
        how += f" (speakers {speakers})"
    return counts, duplicates, how


def write_examples(config: PipelineConfig, folder: str, output_uri: str) -> Written:
    counts, duplicates, how = write_splits(folder, config.speech, config.seed, output_uri)
    return Written(counts, "clips", {"duplicate_clips": duplicates, "split_method": how},
                   f"Split by {how}; {duplicates} byte-identical duplicate(s).", stratify=features.TRANSCRIPT_KEY)  # fmt: skip
