"""The speech report: spectrograms of test clips with their transcripts, and the confusions."""
from __future__ import annotations

import html

from reporting.html import plt, png
from reporting.run import candidate_model, test_predictions
from reporting.sections import confusion_section
from tasks.speech import features

SPECTROGRAMS_SHOWN = 8


def spectrogram_section(report: dict, config) -> str:
    """The first test clips' standardized log-mel spectrograms (what the model reads), titled
    with the reference and the candidate's transcript."""
    from components import export

    records, actual, predicted, which = test_predictions(report, SPECTROGRAMS_SHOWN, features.TRANSCRIPT_KEY, features.TRANSCRIPT_KEY)
    model, _ = candidate_model(report)
    transformed = export.call_in_batches(model.signatures[export.TRANSFORM_SIGNATURE], records)
    columns = min(4, len(records))
    rows = (len(records) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.reshape(-1):
        ax.axis("off")
    for index, ax in enumerate(axes.reshape(-1)[: len(records)]):
        frames = int(transformed[features.FRAMES_KEY][index])
        ax.imshow(transformed[features.SPECTROGRAM_KEY][index, :frames].T, origin="lower", aspect="auto", cmap="magma")
        ok = actual[index] == predicted[index]
        ax.set_title(f"{actual[index]!r} -> {predicted[index]!r}", fontsize=9, color="tab:green" if ok else "tab:red")
    return (f"<p>{html.escape(which)}: log-mel spectrograms of the first {len(records)} test clips "
            f"(time across, mel bins up), titled reference -> transcript.</p>" + png(figure))  # fmt: skip


def confusions_section(report: dict, config) -> str:
    """Reference against written transcripts (the commonest errors when they are many)."""
    return confusion_section(report, config, features.TRANSCRIPT_KEY, features.TRANSCRIPT_KEY)
