"""The `vision:` section of a vision config: its dataclass, read by `data.config.PipelineConfig`."""
from __future__ import annotations

import dataclasses

from data.config import config_section


@config_section("vision", task="vision")
@dataclasses.dataclass
class VisionConfig:
    """How a folder of labelled images becomes examples and pixels (vision task)."""

    image_size: list[int] = dataclasses.field(default_factory=lambda: [28, 28])  # [height, width] every image has
    channels: int = 1  # 1 grayscale, 3 RGB: every image has this many
    split_fractions: list[float] = dataclasses.field(default_factory=lambda: [0.8, 0.1, 0.1])
    stratify: bool = True  # keep each class's share equal across train/eval/test
    split_folders: bool = False  # DATA/{train,eval,test}/<class>/*: the data set's own split
    max_examples: int | None = None  # seeded subsample (None: every image)
    extensions: list[str] = dataclasses.field(default_factory=lambda: [".png", ".jpg", ".jpeg"])

    def validate(self) -> None:
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"vision.split_fractions {self.split_fractions} must be three fractions "
                "(train, eval, test) summing to 1"
            )
        if len(self.image_size) != 2 or min(self.image_size) < 1:
            raise ValueError(f"vision.image_size {self.image_size} must be [height, width], both >= 1")
        if self.channels not in (1, 3):
            raise ValueError(f"vision.channels ({self.channels}) must be 1 (grayscale) or 3 (RGB)")
