"""The speech task, as shared code sees it (registered in tasks/__init__.py)."""
from tasks.speech import config  # noqa: F401  (registers the `speech:` section)
from tasks.taskspec import Option, TaskSpec

SPEC = TaskSpec(
    name="speech",
    package="tasks.speech",
    sections=("speech",),
    resolve_data="tasks.speech.source.resolve_data",
    write_examples="tasks.speech.example_gen.write_examples",
    example_names=("file",),
    schema_problems="tasks.speech.schema_check.problems",
    draft_schema="tasks.speech.schema_draft.draft",
    eval_config="tasks.speech.gate.eval_config",
    gate="tasks.speech.gate.gate",
    score_fn="tasks.speech.scores.score",
    scores_key="speech_scores",
    predictor="tasks.speech.predict.predict_speech",
    predict_options=(Option("--file", "FILE", "a WAV file", repeat=True),),
    report_sections=(
        ("Decoding: the lexicon and greedy decoding (eval and test)", "tasks.speech.report.decoding_section"),
        ("Test clips: spectrograms and transcripts", "tasks.speech.report.spectrogram_section"),
        ("Confusions (test split)", "tasks.speech.report.confusions_section"),
    ),
    benchmarks=(
        ("speech", "tasks.speech.bench"),  # the speech pipeline on two splits, then vs a CNN by seed
        ("speech_loso", "tasks.speech.bench_loso"),  # every speaker held out in turn, in one process
    ),
)
