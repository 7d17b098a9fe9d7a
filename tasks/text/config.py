"""The `text:` section of a text config: its dataclass, read by `data.config.PipelineConfig`."""
from __future__ import annotations

import dataclasses

from data.config import config_section


@config_section("text", task="text")
@dataclasses.dataclass
class TextConfig:
    """How a CSV of labelled texts becomes examples and token ids (text task)."""

    text_column: str = "text"  # CSV column holding the raw text
    label_column: str = "label"  # CSV column holding the class (strings or numbers; >= 2 classes)
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.7, 0.15, 0.15])
    stratify: bool = True  # keep each class's share equal across train/eval/test
    split_column: str | None = None  # a CSV column of train/eval/test per row: the data set's own split
    max_examples: int | None = None  # seeded subsample of the CSV (None: every row)
    max_length: int = 48  # tokens per text after padding/truncation
    vocab_size: int = 15000  # top_k tokens kept (ids 0 and 1 are padding and OOV on top)
    frequency_threshold: int = 2  # tokens seen fewer times in train are OOV
    ngrams: int = 1  # 1: words; 2: words and bigrams
    length_buckets: list[int] = dataclasses.field(default_factory=lambda: [12, 24])  # words: short <= a < medium <= b < long

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"text.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if min(self.max_length, self.vocab_size) < 1 or self.ngrams not in (1, 2):
            raise ValueError("text.max_length and text.vocab_size must be >= 1 and text.ngrams 1 or 2")
        if len(self.length_buckets) != 2 or self.length_buckets[0] >= self.length_buckets[1]:
            raise ValueError(f"text.length_buckets {self.length_buckets} must be two increasing word counts")
