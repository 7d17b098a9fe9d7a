"""The speech report: how the transcripts are decoded, spectrograms of test clips with their transcripts, and the confusions."""
from __future__ import annotations

import html

from reporting.html import plt, png, table
from reporting.run import candidate_model, test_predictions
from reporting.sections import confusion_section
from tasks.speech import features, vocabulary

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


def decoding_table(scores: dict) -> tuple[str, list[str], list[list]]:
    """(what decoding wrote the transcripts, header, one row per split): the clips outside the lexicon,
    and the candidate's accuracy and CER as it serves beside the same logits read greedily."""
    how, size = scores["decoding"], scores["lexicon_size"]
    said = (f"Transcripts are decoded by the lexicon: the likeliest of the {size} distinct train transcripts "
            "(speech.vocabulary declares a closed vocabulary). A clip outside it cannot be transcribed right."
            if how == vocabulary.LEXICON else
            f"Transcripts are decoded greedily (an open vocabulary: any spelling); the lexicon would be the "
            f"{size} distinct train transcripts.")  # fmt: skip
    header = ["split", "clips", "outside the lexicon", f"{how} accuracy", f"{how} CER", "greedy accuracy", "greedy CER"]
    rows = [
        [split, scores["examples"][split], scores["outside_lexicon"][split],
         scores[split]["model"]["accuracy"], scores[split]["model"]["cer"],
         scores[split]["model_greedy"]["accuracy"], scores[split]["model_greedy"]["cer"]]
        for split in ("eval", "test") if split in scores
    ]  # fmt: skip
    return said, header, rows


def decoding_section(report: dict, config) -> str:
    """The decoding, the eval and test clips outside the lexicon, and greedy CER beside the served decoding's."""
    said, header, rows = decoding_table(report[report["scores_key"]])
    return f"<p>{html.escape(said)}</p>" + table(header, rows)
