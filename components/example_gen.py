"""ExampleGen: the one component that turns a task's data into split tf.Examples.

TFX's CsvExampleGen splits by hash and reads rows one by one (../shared/stack.md): it
can neither keep time order, build windows, stratify, read a folder of images or
recordings, nor group the steps of an episode. Each task therefore has a writer of its
own, `write_examples(config, source, output_uri) -> Written`, named here by dotted
path (as the Scorer takes `score_fn`). This component runs it and records what it
wrote in ML Metadata: the standard Examples layout (`Split-<name>/data_tfrecord-*.gz`),
so StatisticsGen, Transform and the Evaluator read it like any ExampleGen output, plus
the writer's own findings as custom properties.

`data_fingerprint` (the file's content hash) and `source_fingerprint` (the writer's
code) are parameters so that caching reruns this component when the data or the code
changes, not only when the path does (pipeline/fingerprint.py).

When `source` is a span pattern (data/spans.py), this component is its own driver: it
selects the window of spans (`spans:` in the config), joins them into one source (with
the writer module's `join_spans(config, spans, directory) -> (source, config)` when it has
one, as the time series does to check continuity, else `data.spans.join`), writes that, and
records the spans read: `span` and `version` (the newest's, TFX's declared properties), and
the custom properties `span` and `spans`. A Python component has no driver of TFX's, so the
pipeline passes the selected spans' fingerprint as `data_fingerprint`: a new span reruns
this component and everything after it; no new span keeps it cached.
"""
# No `from __future__ import annotations`: TFX reads the component's annotations as types.
import dataclasses
import importlib
import json
import tempfile

from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import examples_io
from components.scoring import load_function
from data import spans as data_spans
from data.config import PipelineConfig
from data.notices import notices
from data.splits import GATE_SPLIT, SPLITS


@dataclasses.dataclass
class Written:
    """What a task's writer wrote."""

    counts: dict[str, int]  # examples per split
    unit: str = "examples"  # what one example is: windows, images, clips, episodes
    properties: dict[str, int | str] = dataclasses.field(default_factory=dict)  # custom properties in MLMD
    summary: str = ""  # one line for the run's log
    notice: str | None = None  # what a user should act on (the run's terminal shows it)
    gate_split: bool = True  # cut eval into selection and gate parts (False: a task judged otherwise, by acting)
    ordered: bool = False  # examples are in time order (forecast windows): the gate takes the later part
    purge: int = 0  # ordered: examples dropped at the cut, whose targets overlap the selection part's
    stratify: str | None = None  # a feature (the label) whose values both parts of eval keep in proportion


def write(writer: str, config: PipelineConfig, source: str, output_uri: str) -> Written:
    """Run a task's writer (dotted path) on `source`; `make schema` calls it too. A writer's
    module imports its task's config module, so that a fresh process (a Beam worker, a
    Kubeflow container) knows the task's config sections once the writer is loaded."""
    return write_spans(writer, config, source, output_uri)[0]


def write_spans(writer: str, config: PipelineConfig, source: str, output_uri: str) -> tuple[Written, PipelineConfig, list]:
    """(what the writer wrote, the config it wrote with, the spans read): `source` itself, or of a
    span pattern the window of spans `config.spans` selects, joined into one source first."""
    chosen = []
    with tempfile.TemporaryDirectory(prefix="spans-") as directory:
        if data_spans.is_pattern(source):
            source, config, chosen = join_spans(writer, config, source, directory)
            print(f"ExampleGen: spans {data_spans.numbers(chosen)}")
        return load_function(writer)(config, source, output_uri), config, chosen


def join_spans(writer: str, config: PipelineConfig, pattern: str, directory: str):
    """(one source under `directory`, the config to write it with, the spans read): the window
    of spans `config.spans` selects, joined by the writer module's `join_spans` if it has one."""
    chosen = data_spans.select(pattern, config.spans)
    task_join = getattr(importlib.import_module(writer.rpartition(".")[0]), "join_spans", None)
    if task_join is not None:
        joined, config = task_join(config, chosen, directory)
    else:
        joined = data_spans.join(chosen, directory)
    return joined, config, chosen


def record_spans(examples, pattern: str, chosen: list) -> None:
    """TFX's declared `span` and `version` (the newest span read), the same as custom properties,
    and every span read (`spans`, oldest first), on the Examples artifact."""
    newest = chosen[-1]
    examples.span = newest.number
    examples.set_int_custom_property("span", newest.number)
    if newest.version is not None:
        examples.version = newest.version
        examples.set_int_custom_property("version", newest.version)
    examples.set_string_custom_property(data_spans.SPANS_PROPERTY, json.dumps([s.number for s in chosen]))
    examples.set_string_custom_property(data_spans.SPAN_PATTERN_PROPERTY, pattern)


@component
def ExampleGen(
    examples: OutputArtifact[standard_artifacts.Examples],
    source: Parameter[str],
    writer: Parameter[str],
    task_config: Parameter[str],
    data_fingerprint: Parameter[str],
    source_fingerprint: Parameter[str],
) -> None:
    """Writes `source` (a CSV or a folder) as `examples` with `writer`, per `task_config`
    (the config's JSON: only what the writer reads, so that training settings keep it cached)."""
    del data_fingerprint, source_fingerprint  # only part of the cache key
    load_function(writer)  # first: the task's modules register its config sections
    config = PipelineConfig.from_dict(json.loads(task_config))
    written, config, chosen = write_spans(writer, config, source, examples.uri)
    splits = list(SPLITS)
    if written.gate_split:
        written.counts.update(examples_io.carve_gate(
            examples.uri, written.ordered, written.purge, config.seed, written.stratify, stable=bool(chosen)
        ))  # fmt: skip
        splits.append(GATE_SPLIT)
    examples_io.describe(examples, splits, source, written.counts, written.unit)
    if chosen:
        record_spans(examples, source, chosen)
    for name, value in written.properties.items():
        if isinstance(value, int):
            examples.set_int_custom_property(name, value)
        else:
            examples.set_string_custom_property(name, value if isinstance(value, str) else json.dumps(value))
    print(f"ExampleGen: {written.counts} {written.unit} from {source}. {written.summary}")
    if written.notice:
        notices().warning(f"ExampleGen: {written.notice}")
