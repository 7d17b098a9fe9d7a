"""The `speech:` section of a speech config: its dataclass, read by `data.config.PipelineConfig`."""
from __future__ import annotations

import dataclasses

from data.config import config_section
from tasks.speech.vocabulary import VOCABULARIES

NORMALIZATIONS = ("none", "cmn", "cmvn")  # `speech.normalize`


@config_section("speech", task="speech")
@dataclasses.dataclass
class SpeechConfig:
    """How a folder of WAV recordings and their transcripts becomes examples and spectrograms (speech task)."""

    sample_rate: int = 8000  # every clip is resampled to this rate (Hz); stereo is mixed down
    max_seconds: float = 2.0  # longer clips stop the run; shorter ones are padded (and masked)
    min_seconds: float = 0.05  # shorter (or empty) clips stop the run
    alphabet: str = "abcdefghijklmnopqrstuvwxyz' "  # transcript characters (lower case); others stop the run
    transcripts: str = "transcripts.csv"  # CSV of file,transcript[,speaker][,split] in the folder; without
    # it, free-spoken-digit names `{digit}_{speaker}_{index}.wav` give the transcript (the digit's word)
    split_by: str = "auto"  # "speaker": test speakers never appear in train or eval, nor eval speakers in train
    # (with at least 3 speakers); "dataset": the data set's own split where it has one, else seeded; "random":
    # seeded; "auto": "speaker" when every clip names one of at least 3 speakers, else "dataset" (source.py)
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.8, 0.1, 0.1])
    eval_fraction: float = 0.1  # of the non-test clips, when the data set's own split has no eval part
    frame_ms: float = 32.0  # spectrogram window
    step_ms: float = 5.0  # spectrogram hop: 200 frames a second, halved by the model's convolutions
    mel_bins: int = 40
    normalize: str = "none"  # per clip, per mel bin over its real frames, before the train-fitted standardization:
    # "cmn" subtracts the clip's mean log-mel, "cmvn" also divides by its deviation (tasks/speech/preprocessing.py)
    vocabulary: str = "open"  # "open": any string over the alphabet (greedy decoding); "closed": every clip says
    # a train transcript (commands, digits), so the likeliest one is written (lexicon decoding); "closed_if_vendored":
    # closed for the vendored digits (data: null), open for your recordings (tasks/speech/vocabulary.py)
    max_examples: int | None = None  # seeded subsample (None: every clip)

    @property
    def max_samples(self) -> int:
        return int(round(self.max_seconds * self.sample_rate))

    @property
    def frame_length(self) -> int:  # samples per spectrogram window
        return int(round(self.frame_ms * self.sample_rate / 1000))

    @property
    def frame_step(self) -> int:  # samples between windows
        return int(round(self.step_ms * self.sample_rate / 1000))

    @property
    def fft_length(self) -> int:
        return 1 << (self.frame_length - 1).bit_length()

    @property
    def num_frames(self) -> int:  # spectrogram frames of a max_seconds clip
        return 1 + (self.max_samples - self.frame_length) // self.frame_step

    @property
    def max_characters(self) -> int:
        """Character ids per transcript after padding: one per frame bounds any CTC model's output.
        (How many a model can write is its own: tasks/speech/example_gen.py checks it.)"""
        return self.num_frames

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"speech.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if self.split_by not in ("auto", "dataset", "random", "speaker"):
            raise ValueError(f"speech.split_by '{self.split_by}' must be auto, dataset, random or speaker")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"speech.normalize '{self.normalize}' must be one of {', '.join(NORMALIZATIONS)}")
        if self.vocabulary not in VOCABULARIES:
            raise ValueError(f"speech.vocabulary '{self.vocabulary}' must be one of {', '.join(VOCABULARIES)}")
        if not 0 < self.min_seconds < self.max_seconds or self.sample_rate < 1000:
            raise ValueError(
                f"speech: need 0 < min_seconds ({self.min_seconds}) < max_seconds ({self.max_seconds}) "
                f"and sample_rate ({self.sample_rate}) >= 1000 Hz"
            )
        if not self.alphabet or len(set(self.alphabet)) != len(self.alphabet) or self.alphabet != self.alphabet.lower():
            raise ValueError(f"speech.alphabet {self.alphabet!r} must be distinct lower-case characters")
        if not 0 < self.eval_fraction < 1 or self.mel_bins < 1 or not 0 < self.step_ms <= self.frame_ms:
            raise ValueError("speech: need 0 < eval_fraction < 1, mel_bins >= 1 and 0 < step_ms <= frame_ms")
