"""The vision task, as shared code sees it (registered in tasks/__init__.py)."""
from tasks.taskspec import Option, TaskSpec
from tasks.vision import config  # noqa: F401  (registers the `vision:` section)

SPEC = TaskSpec(
    name="vision",
    package="tasks.vision",
    sections=("vision",),
    resolve_data="tasks.vision.source.resolve_data",
    write_examples="tasks.vision.example_gen.write_examples",
    example_names=("file",),
    schema_problems="tasks.vision.schema_check.problems",
    draft_schema="tasks.vision.schema_draft.draft",
    eval_config="tasks.vision.gate.eval_config",
    gate="tasks.vision.gate.gate",
    score_fn="components.classification.score",
    scores_key="vision_scores",
    predictor="tasks.vision.predict.predict_vision",
    predict_options=(Option("--file", "FILE", "an image file", repeat=True),),
    report_sections=(
        ("Confusion matrix (test split)", "reporting.sections.confusion_section"),
        ("Misclassified test images", "tasks.vision.report.misclassified_section"),
    ),
    benchmarks=(("vision", "tasks.vision.bench"),),  # the vision pipeline fresh under bench/results/, then ViT vs CNN by seed
)
