"""Scorer: the candidate and its challengers on the eval and the test split, into ML Metadata.

The Evaluator gates on the eval split only. The test split chooses nothing: it is
scored here, once per candidate, so that the summary, `make inspect` and the report
show how the model and every challenger do on data nothing was tuned on. Each task
provides the scoring function (`TaskSpec.score_fn`, a dotted path) that loads the
candidate's SavedModel, reads the raw examples and returns plain JSON-able scores.
"""

import importlib
import json
import os

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact, standard_artifacts
from tfx.utils import path_utils

SCORES_FILE = "scores.json"
SCORES_PROPERTY = "scores"  # the same JSON, as a custom property of the artifact
NAME_PROPERTY = "name"  # what `make inspect JSON=1` calls them (TaskSpec.scores_key)


class Scores(artifact.Artifact):
    """Scores of a candidate and its challengers per split (`scores.json`)."""

    TYPE_NAME = "tfx_transformers.Scores"  # KFP v2 wants "<namespace>.<Name>" for custom types


def load_function(dotted: str):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


@component
def Scorer(
    examples: InputArtifact[standard_artifacts.Examples],
    model: InputArtifact[standard_artifacts.Model],
    scores: OutputArtifact[Scores],
    score_fn: Parameter[str],
    scores_key: Parameter[str],
    task_config: Parameter[str],
    source_fingerprint: Parameter[str],
) -> None:
    """`score_fn(serving_model_dir, examples_uri, config_dict) -> dict` on the candidate.
    `source_fingerprint` (of score_fn's code) is only part of the cache key."""
    del source_fingerprint
    result = load_function(score_fn)(path_utils.serving_model_path(model.uri), examples.uri, json.loads(task_config))
    record(scores, result, scores_key)


def record(scores: Scores, result: dict, scores_key: str) -> None:
    """`result` into the artifact's `scores.json` and custom properties (read by inspect and the report)."""
    os.makedirs(scores.uri, exist_ok=True)
    with open(os.path.join(scores.uri, SCORES_FILE), "w") as handle:
        json.dump(result, handle, indent=2)
    scores.set_string_custom_property(SCORES_PROPERTY, json.dumps(result))
    scores.set_string_custom_property(NAME_PROPERTY, scores_key)
