"""The vision report: the images the candidate got wrong."""
from __future__ import annotations

import html

from reporting.html import plt, png
from reporting.run import test_predictions

MISCLASSIFIED_SHOWN = 24


def misclassified_section(report: dict, config) -> str:
    """A grid of test images the candidate got wrong, each titled actual -> predicted."""
    import tensorflow as tf

    from tasks.vision import features

    records, actual, predicted, which = test_predictions(report)
    wrong = [i for i, (a, p) in enumerate(zip(actual, predicted, strict=True)) if a != p]
    if not wrong:
        return f"<p>{html.escape(which)} classifies all {len(records)} test images correctly.</p>"
    shown = wrong[:MISCLASSIFIED_SHOWN]
    columns = min(8, len(shown))
    rows = (len(shown) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    for ax in axes.reshape(-1):
        ax.axis("off")
    for ax, index in zip(axes.reshape(-1), shown, strict=False):
        encoded = tf.train.Example.FromString(records[index]).features.feature[features.IMAGE_KEY].bytes_list.value[0]
        image = tf.io.decode_image(encoded, expand_animations=False).numpy()
        ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        ax.set_title(f"{actual[index]} -> {predicted[index]}", fontsize=9, color="tab:red")
    return (f"<p>{html.escape(which)}: {len(wrong)} of {len(records)} test images misclassified "
            f"(the first {len(shown)} shown, titled actual -> predicted).</p>" + png(figure))  # fmt: skip
