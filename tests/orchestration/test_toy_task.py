"""A sixth task is one folder and one registry line: a toy task, written to a temporary folder
and registered there, builds and compiles its pipeline with no shared module edited.

The toy classifies a number as `small` or `large`. Its folder holds only what a task owns:
its config section and YAML, schema, data, writer, preprocessing_fn, module file, gate and
TaskSpec. Everything else (ExampleGen, validation, Transform, Tuner, Trainer, Evaluator,
Pusher, fingerprints, the Kubeflow compile) is the shared machinery, read through the spec.
"""
from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

import tasks
from data import config as data_config
from pipeline import fingerprint
from pipeline.compile import compile_pipeline
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline
from pipeline.profile import load_profile

PACKAGE = "toy_task_for_test"  # a name no other module has: the task lives outside this repository
FILES = {
    "__init__.py": '"""A toy task: is a number small or large?"""\n',
    "config.py": """
        import dataclasses

        from data.config import config_section


        @config_section("toy", task="toy")
        @dataclasses.dataclass
        class ToyConfig:
            threshold: float = 5.0  # `large` from here on

            def validate(self) -> None:
                if self.threshold <= 0:
                    raise ValueError("toy.threshold must be > 0")
        """,
    "config.yaml": """
        task: toy
        schema: {folder}/schema.pbtxt
        toy:
          threshold: 5.0
        tuner: {{max_trials: 1, epochs: 1, steps_per_epoch: 2}}
        trainer: {{epochs: 1}}
        """,
    "schema.pbtxt": """
        feature { name: "value" type: FLOAT presence { min_fraction: 1.0 } shape { dim { size: 1 } } }
        feature { name: "label" type: BYTES domain: "label" presence { min_fraction: 1.0 } shape { dim { size: 1 } } }
        string_domain { name: "label" value: "small" value: "large" }
        """,
    "data.csv": "value\n" + "\n".join(str(v) for v in (1, 9, 2, 8, 3, 7, 4, 6, 0.5, 9.5)) + "\n",
    "writer.py": """
        import pandas as pd

        from components import examples_io
        from components.example_gen import Written
        from data.splits import SPLITS


        def resolve_data(config) -> str:
            import pathlib

            return config.data or str(pathlib.Path(__file__).parent / "data.csv")


        def write_examples(config, source, output_uri) -> Written:
            frame = pd.read_csv(source)
            counts = {}
            for index, split in enumerate(SPLITS):  # rows 0, 3, 6.. train; 1, 4.. eval; 2, 5.. test
                rows = frame.iloc[index::3]
                counts[split] = examples_io.write_split(output_uri, split, (
                    examples_io.to_tf_example({"value": [float(v)], "label": "large" if v >= config.toy.threshold else "small"})
                    for v in rows["value"]
                ))
            return Written(counts, "numbers")
        """,
    "preprocessing.py": """
        import tensorflow_transform as tft


        def preprocessing_fn(inputs, custom_config):
            return {"value_xf": tft.scale_to_z_score(inputs["value"]), "label_xf": tft.compute_and_apply_vocabulary(inputs["label"])}
        """,
    "module.py": """
        import keras


        def tuner_fn(fn_args):
            raise NotImplementedError("the toy is compiled, not trained")


        def run_fn(fn_args):
            keras.Sequential([keras.layers.Dense(2)])
        """,
    "gate.py": """
        import tensorflow_model_analysis as tfma


        def eval_config(config):
            return tfma.EvalConfig(
                model_specs=[tfma.ModelSpec(label_key="label")],
                slicing_specs=[tfma.SlicingSpec()],
                metrics_specs=[tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")])],
            )
        """,
    "task.py": f"""
        from tasks.taskspec import TaskSpec
        from {PACKAGE} import config  # noqa: F401  (registers the `toy:` section)

        SPEC = TaskSpec(
            name="toy",
            package="{PACKAGE}",
            sections=("toy",),
            resolve_data="{PACKAGE}.writer.resolve_data",
            write_examples="{PACKAGE}.writer.write_examples",
            eval_config="{PACKAGE}.gate.eval_config",
        )
        """,
}


@pytest.fixture
def toy_task(tmp_path, monkeypatch):
    folder = tmp_path / PACKAGE
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(textwrap.dedent(text.format(folder=folder) if name == "config.yaml" else text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(tasks.REGISTRY, "toy", f"{PACKAGE}.task")  # the one registry line
    monkeypatch.setattr(data_config, "SECTIONS", dict(data_config.SECTIONS))  # the toy's section leaves with it
    fingerprint.source_fingerprint.cache_clear()
    yield folder
    fingerprint.source_fingerprint.cache_clear()


def shared_tree_state() -> str:
    """What git sees changed in the repository, beside this test: must be the same before and after."""
    return subprocess.run(["git", "status", "--porcelain"], cwd=fingerprint.REPO_ROOT, capture_output=True, text=True).stdout


def test_toy_task_from_a_temporary_folder_builds_and_compiles_its_pipeline(toy_task, tmp_path):
    before = shared_tree_state()
    config = load_config("toy", output_dir=str(tmp_path / "output"))
    assert config.toy.threshold == 5.0 and config.task_dir.name == "toy"
    spec = tasks.spec("toy")

    # Its writer, through the shared ExampleGen's entry point, on its own data.
    from components import example_gen, examples_io

    written = example_gen.write(spec.write_examples, config, spec.call("resolve_data", config), str(tmp_path / "examples"))
    assert written.counts == {"train": 4, "eval": 3, "test": 3}
    train = examples_io.read_split(str(tmp_path / "examples"), "train")  # values 1, 8, 4 and 9.5
    assert examples_io.first_strings(train, "label") == ["small", "large", "small", "large"]

    # The whole pipeline, locally: every shared component, keyed on the toy's own code.
    pipeline = create_pipeline(config)
    nodes = {node.id: node for node in pipeline.components}
    assert {"ExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator", "AnomalyGate", "Transform",
            "Tuner", "Trainer", "LatestBlessedModelResolver", "Evaluator", "Pusher"} == set(nodes)  # fmt: skip
    assert nodes["ExampleGen"].exec_properties["writer"] == f"{PACKAGE}.writer.write_examples"
    assert nodes["Transform"].exec_properties["preprocessing_fn"] == f"{PACKAGE}.preprocessing.preprocessing_fn"
    assert nodes["Trainer"].exec_properties["run_fn"] == f"{PACKAGE}.module.run_fn"
    assert json.loads(nodes["ExampleGen"].exec_properties["task_config"])["toy"] == {"threshold": 5.0}
    key = json.loads(nodes["Trainer"].exec_properties["custom_config"])["source_fingerprint"]
    (toy_task / "module.py").write_text((toy_task / "module.py").read_text() + "\n# edited\n")
    fingerprint.source_fingerprint.cache_clear()
    edited = create_pipeline(config)
    trainer = next(n for n in edited.components if n.id == "Trainer")
    assert json.loads(trainer.exec_properties["custom_config"])["source_fingerprint"] != key  # its code is the cache key

    # And compiled for Kubeflow Pipelines, as any task.
    profile = load_profile("kubeflow", ["image=example.com/toy:1", "data.toy=gs://bucket/toy.csv"])
    compiled = compile_pipeline(config, profile, "kubeflow", str(tmp_path / "compiled"))
    job = json.loads(open(compiled.spec_path).read())
    assert "ExampleGen" in job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert shared_tree_state() == before  # nothing in the repository was touched
