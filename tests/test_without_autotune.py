"""`training.without_autotune`: the datasets `fit` reads run without tf.data's autotuner (whose
thread an iterator's deletion waited for, with the cores idle), and yield the same batches in
the same order."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from components.training import without_autotune


def _batches() -> tf.data.Dataset:
    """Shuffled anew each epoch (seeded), mapped in parallel and prefetched, as the Trainers' are."""
    x = np.arange(200, dtype="float32").reshape(100, 2)  # (N, 2)
    return (tf.data.Dataset.from_tensor_slices(x).shuffle(100, seed=3).batch(8)
            .map(lambda b: b * 2.0, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))  # fmt: skip


def test_the_autotuner_is_off_and_the_batches_are_the_same():
    tuned = _batches()
    assert tuned.options().autotune.enabled is not False
    steady = without_autotune(_batches())
    assert steady.options().autotune.enabled is False
    for _ in range(2):  # a new iterator each epoch, as `fit` makes them
        for a, b in zip(tuned, steady, strict=True):  # (B, 2) each
            np.testing.assert_array_equal(a.numpy(), b.numpy())
