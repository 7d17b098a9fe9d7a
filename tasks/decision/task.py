"""The decision task, as shared code sees it (registered in tasks/__init__.py)."""
from tasks.decision import config  # noqa: F401  (registers the `decision:` section)
from tasks.taskspec import Option, TaskSpec

SPEC = TaskSpec(
    name="decision",
    package="tasks.decision",
    sections=("decision",),
    resolve_data="tasks.decision.source.resolve_data",
    write_examples="tasks.decision.example_gen.write_examples",
    example_names=("episode",),
    schema_problems="tasks.decision.schema_check.problems",
    evaluator="tasks.decision.rollout_evaluator.evaluator",  # judged by acting, not by TFMA
    verdict="tasks.decision.inspect.verdict",
    score_lines="tasks.decision.inspect.score_lines",
    predictor="tasks.decision.predict.predict_decision",
    predict_options=(
        Option("--target", "RETURN", "the return the model is asked for", type="float"),
        Option("--seed", "SEED", "the episode's seed", type="int"),
    ),
    report_sections=(("Achieved return against target return", "tasks.decision.report.return_curve_section"),),
    benchmarks=(("decision", "tasks.decision.bench"),),  # the decision pipeline on CartPole and Pendulum
)
