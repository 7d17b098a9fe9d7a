"""Which blessed model a run compares with, and which it warm-starts from, so that reruns stay cached.

TFX's LatestBlessedModelStrategy resolves the latest blessed model whatever it is. After a run
pushes its model M, a rerun with no new data resolves M where the first run resolved nothing:
its Evaluator (and a warm-started Trainer) sees a new input, reruns, and compares M with itself.
A rerun with no new span should be fully cached. Two strategies keep TFX's rule and exclude what
a run must not be compared with or started from:

- `LatestBlessedOtherModelStrategy` (the Evaluator's baseline): the latest blessed model other
  than this run's candidate (`candidate`, the Trainer's output).
- `LatestBlessedEarlierDataModelStrategy` (the Trainer's `base_model` for `trainer.warm_start`):
  the latest blessed model not trained on this run's examples (`examples`, the Transform's
  output), found through the model's lineage in ML Metadata: a model trained on these very
  examples is no start for training on them again.

Both return the resolved `model` and `model_blessing`, and the extra channel as it came.

They run where TFX runs resolver strategies in process: the local runner. TFX 1.16's Kubeflow V2
(Vertex) compiler accepts only its own LatestBlessedModelStrategy (step_builder.py), and the remote
profiles never take the ExampleGen from cache (each run reads its data URI anew), so remote runs
use TFX's strategy: `latest_blessed(..., remote=True)`.
"""
from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.components.common import resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

BLESSED, CURRENT_MODEL_ID = "blessed", "current_model_id"  # the ModelBlessing's custom properties (TFX's)
MODEL, BLESSING = "model", "model_blessing"  # the channel keys create_pipeline gives
CANDIDATE, EXAMPLES = "candidate", "examples"


def blessed_models(input_dict: dict[str, list[types.Artifact]]) -> list[tuple[types.Artifact, types.Artifact]]:
    """(model, its blessing) for every blessed model, newest first: TFX's LatestBlessedModelStrategy's order."""
    blessings = {
        b.get_int_custom_property(CURRENT_MODEL_ID): b
        for b in input_dict.get(BLESSING, [])
        if b.get_int_custom_property(BLESSED) == 1
    }
    models = sorted(input_dict.get(MODEL, []), key=lambda a: a.id, reverse=True)
    return [(m, blessings[m.id]) for m in models if m.id in blessings]


def first(pairs, excluded) -> dict[str, list[types.Artifact]]:
    for model, blessing in pairs:
        if not excluded(model):
            return {MODEL: [model], BLESSING: [blessing]}
    return {MODEL: [], BLESSING: []}


def trained_on(store, model_id: int) -> set[int]:
    """Ids of the artifacts the execution that produced model `model_id` read."""
    event = metadata_store_pb2.Event
    outputs = [e for e in store.get_events_by_artifact_ids([model_id]) if e.type in (event.OUTPUT, event.DECLARED_OUTPUT)]
    if not outputs:
        return set()
    events = store.get_events_by_execution_ids([outputs[0].execution_id])
    return {e.artifact_id for e in events if e.type in (event.INPUT, event.DECLARED_INPUT)}


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """The latest blessed model that is not this run's candidate."""

    def resolve_artifacts(self, store, input_dict):
        candidates = {a.id for a in input_dict.get(CANDIDATE, [])}
        return {**first(blessed_models(input_dict), lambda m: m.id in candidates), CANDIDATE: input_dict.get(CANDIDATE, [])}


class LatestBlessedEarlierDataModelStrategy(resolver.ResolverStrategy):
    """The latest blessed model not trained on this run's examples."""

    def resolve_artifacts(self, store, input_dict):
        examples = {a.id for a in input_dict.get(EXAMPLES, [])}
        pairs = blessed_models(input_dict)
        return {**first(pairs, lambda m: bool(trained_on(store, m.id) & examples)), EXAMPLES: input_dict.get(EXAMPLES, [])}


def latest_blessed(strategy, node_id: str, remote: bool = False, **extra) -> resolver.Resolver:
    """A Resolver of the latest blessed model by `strategy` with its extra channel; `remote`:
    TFX's LatestBlessedModelStrategy, the one the Kubeflow V2 compiler takes."""
    if remote:
        strategy, extra = LatestBlessedModelStrategy, {}
    return resolver.Resolver(
        strategy_class=strategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
        **extra,
    ).with_id(node_id)
