"""The vision settings only the Trainer reads, checked when the pipeline is built
(`TaskSpec.config_problems`): a bad augmentation range then stops the run before ExampleGen,
not after Transform."""
from __future__ import annotations

from data.config import PipelineConfig
from tasks.vision.module import augmentation  # the Trainer's own reading of the keys


def problems(config: PipelineConfig) -> list[str]:
    """What is wrong with the `model.` augmentation keys (models/vision_transformer.py's
    `Augmentation`), each naming its key; [] when nothing is."""
    try:
        augmentation(config).validate()
    except ValueError as error:
        return [str(error)]
    return []
