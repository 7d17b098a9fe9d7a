"""The text writer: a CSV of labelled texts -> tf.Examples in seeded train/eval/test splits.

TFX's CsvExampleGen splits by hash: neither seeded nor stratified (../shared/stack.md).
`write_examples` (for the shared ExampleGen) splits with `tasks.text.source.split_rows` (a seeded permutation, per
class when `text.stratify`), writes the standard Examples layout
(`Split-<name>/data_tfrecord-*.gz`) and adds a raw `length_bucket` feature so the
Evaluator can slice metrics by text length. Column names are mapped to the keys of
`data.features`, so the curated schema does not depend on the user's CSV header.

A row whose text is missing keeps no `text` feature, and a label is written as found:
the curated schema's presence and string domain then stop the run at the AnomalyGate.
"""


from components import examples_io
from components.example_gen import Written
from data import spans
from data.config import PipelineConfig
from data.splits import check_classes_in_train, subsample
from tasks.text import features
from tasks.text import source as text_source
from tasks.text.config import TextConfig


def write_splits(csv_path: str, text: TextConfig, seed: int, output_uri: str, stable: bool = False) -> tuple[dict, int]:
    """Write one gzipped TFRecord file per split under `output_uri`; returns (counts per split,
    duplicate rows kept together)."""
    frame = subsample(text_source.read_texts(csv_path, text), text.max_examples, seed)
    splits, duplicates = text_source.split_rows(frame, text, seed, stable)
    check_classes_in_train(frame[features.LABEL_KEY], splits, csv_path, text_source.UNSEEN_CLASS_REMEDY)
    counts = examples_io.write_frame(output_uri, frame, splits, lambda row: {
        features.TEXT_KEY: getattr(row, features.TEXT_KEY),
        features.LABEL_KEY: getattr(row, features.LABEL_KEY),
        features.LENGTH_BUCKET_KEY: text_source.length_bucket(getattr(row, features.TEXT_KEY), text),
    })  # fmt: skip
    return counts, duplicates


def write_examples(config: PipelineConfig, csv_path: str, output_uri: str) -> Written:
    text = config.text
    # spans (data/spans.py): every row keeps its split as spans arrive
    counts, duplicates = write_splits(csv_path, text, config.seed, output_uri, stable=spans.is_pattern(config.data))
    source = f"the CSV's split column '{text.split_column}'" if text.split_column else "a seeded split"
    kept = "" if text.split_column else ", each kept in one split"
    return Written(counts, "texts", {"duplicate_texts": duplicates},
                   f"Split by {source}; {duplicates} duplicate text(s) (same after case and whitespace normalisation){kept}.",
                   stratify=features.LABEL_KEY)  # fmt: skip
