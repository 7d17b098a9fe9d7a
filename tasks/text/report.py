"""The text report: vocabulary and text lengths, and the confusion matrix."""
from __future__ import annotations

import glob
import os

from reporting.html import plt, png, table
from reporting.run import artifact_uri


def text_statistics_section(report: dict, config) -> str:
    """Vocabulary size (train-fitted), words per text by split, and the share of out-of-vocabulary words."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_transform as tft

    from tasks.text import features
    from tasks.text.preprocessing import standardize_and_split

    uri = artifact_uri(report, "ExampleGen", "examples")
    transform = tft.TFTransformOutput(artifact_uri(report, "Transform", "transform_graph"))
    vocabulary = {v.decode() for v in transform.vocabulary_by_name(features.TOKEN_VOCABULARY)}
    rows, lengths = [], {}
    for split in ("train", "eval", "test"):
        files = sorted(glob.glob(os.path.join(uri or "", f"Split-{split}", "*")))
        texts = [tf.train.Example.FromString(r.numpy()).features.feature[features.TEXT_KEY].bytes_list.value[0]
                 for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]  # fmt: skip
        tokens = standardize_and_split(tf.constant(texts), 1).to_list() if texts else []
        counts = np.array([len(t) for t in tokens])
        known = sum(tok.decode() in vocabulary for row in tokens for tok in row)
        lengths[split] = counts
        rows.append([split, len(texts), float(np.median(counts)), float(np.percentile(counts, 95)), int(counts.max()),
                     1 - known / max(1, counts.sum())])  # fmt: skip
    parts = [f"<p>Token vocabulary (fitted on train, <code>text.vocab_size</code> = {config.text.vocab_size}): "
             f"{len(vocabulary)} tokens; texts are cut at <code>text.max_length</code> = {config.text.max_length}.</p>",
             table(["split", "texts", "median words", "95th percentile", "max", "out-of-vocabulary share"], rows)]  # fmt: skip
    figure, ax = plt.subplots(figsize=(6, 3))
    top = max(int(np.percentile(np.concatenate(list(lengths.values())), 99)), 1)
    for split, counts in lengths.items():
        ax.hist(np.minimum(counts, top), bins=30, histtype="step", density=True, label=split)
    ax.axvline(config.text.max_length, color="red", linestyle="--", label="max_length")
    ax.set_xlabel("words per text")
    ax.legend()
    parts.append(png(figure))
    return "".join(parts)
