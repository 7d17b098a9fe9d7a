"""The time-series task, as shared code sees it (registered in tasks/__init__.py)."""
from tasks.taskspec import TaskSpec
from tasks.timeseries import config  # noqa: F401  (registers the `series:` section)

SPEC = TaskSpec(
    name="timeseries",
    package="tasks.timeseries",
    sections=("series",),
    resolve_data="tasks.timeseries.source.resolve_data",
    write_examples="tasks.timeseries.example_gen.write_examples",
    schema_problems="tasks.timeseries.schema_check.problems",
    draft_schema="tasks.timeseries.schema_draft.draft",
    eval_config="tasks.timeseries.gate.eval_config",
    gate="tasks.timeseries.gate.gate",
    score_fn="tasks.timeseries.scores.score",
    scores_key="forecast_scores",
    predictor="tasks.timeseries.predict.predict_timeseries",
    batch_prediction="tasks.timeseries.batch",
    live_truth="tasks.timeseries.live.live_truth",
    report_sections=(
        ("Forecasts vs actual, with the challengers (test split)", "tasks.timeseries.report.forecast_section"),
        ("Error by horizon step", "tasks.timeseries.report.horizon_section"),
    ),
    simulation="tasks.timeseries.simulation",
    benchmarks=(
        ("timeseries", "tasks.timeseries.bench"),  # runs `make run-local` fresh under bench/results/
        ("forecaster_speed", "tasks.timeseries.bench_speed"),  # train/predict windows/s at ETTh2 scale
        ("etth2", "tasks.timeseries.bench_etth2"),
        ("warm_start", "tasks.timeseries.bench_warm_start"),  # a new span: warm start against cold, per seed  # ETTh2 through the user-data path (reads ../shared/data)
    ),
)
