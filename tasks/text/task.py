"""The text task, as shared code sees it (registered in tasks/__init__.py)."""
from tasks.taskspec import Option, TaskSpec
from tasks.text import config  # noqa: F401  (registers the `text:` section)

SPEC = TaskSpec(
    name="text",
    package="tasks.text",
    sections=("text",),
    resolve_data="tasks.text.source.resolve_data",
    write_examples="tasks.text.example_gen.write_examples",
    schema_problems="tasks.text.schema_check.problems",
    draft_schema="tasks.text.schema_draft.draft",
    eval_config="tasks.text.gate.eval_config",
    gate="tasks.text.gate.gate",
    score_fn="components.classification.score",
    scores_key="text_scores",
    predictor="tasks.text.predict.predict_text",
    batch_prediction="tasks.text.batch",
    live_truth="tasks.text.live.live_truth",
    predict_options=(
        Option("--text", "TEXT", "a text to classify"),
        Option("--file", "FILE", "a file with one text per line", repeat=True),
    ),
    report_sections=(
        ("Text statistics", "tasks.text.report.text_statistics_section"),
        ("Confusion matrix (test split)", "reporting.sections.confusion_section"),
    ),
    simulation="tasks.text.simulation",
    benchmarks=(("text", "tasks.text.bench"),),  # runs the text pipeline when OUTPUT_DIR has no pushed text model
)
