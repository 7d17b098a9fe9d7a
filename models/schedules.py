"""Learning-rate schedules the transformer recipes share."""
from __future__ import annotations

import keras


def warmup_cosine(learning_rate: float, decay_steps: int, warmup_fraction: float):
    """Linear warmup to `learning_rate`, then cosine decay to 0, over `decay_steps` in all."""
    warmup = max(1, int(decay_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, decay_steps - warmup), warmup_target=learning_rate, warmup_steps=warmup
    )
