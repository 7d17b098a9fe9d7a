"""Cache keys follow the code: each component's fingerprint covers the project modules it runs."""
from __future__ import annotations

import json
import shutil

import pytest

from data.config import SOURCE_FINGERPRINT_KEY
from pipeline import fingerprint
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline

PACKAGES = fingerprint.PROJECT_PACKAGES


def relative(paths) -> set[str]:
    return {str(p.relative_to(fingerprint.REPO_ROOT)) for p in paths}


def test_the_closure_follows_imports_and_nothing_else():
    example_gen = relative(fingerprint.source_closure(["tasks.timeseries.example_gen"]))
    assert {"tasks/timeseries/example_gen.py", "tasks/timeseries/windowing.py", "components/examples_io.py"} <= example_gen
    assert not any(p.startswith("models/") for p in example_gen)  # a model edit leaves it cached
    trainer = relative(fingerprint.source_closure(["tasks.timeseries.module"]))
    assert {"models/patch_forecaster.py", "models/layers/attention.py", "components/export.py"} <= trainer
    assert "models/text_classifier.py" not in trainer  # the other task's model


def test_relative_and_from_imports_are_followed(tmp_path):
    (tmp_path / "pkg").mkdir()
    source = tmp_path / "pkg" / "a.py"
    source.write_text("from . import b\nfrom .c import d\nimport models.x\ndef f():\n    from data import y\n")
    names = fingerprint.imported_names(source, "pkg.a")
    assert {"pkg.b", "pkg.c", "pkg.c.d", "models.x", "data", "data.y"} <= names


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of the project's packages that fingerprinting reads instead of this checkout."""
    for package in PACKAGES:
        shutil.copytree(fingerprint.REPO_ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    monkeypatch.setattr(fingerprint, "REPO_ROOT", tmp_path)
    fingerprint.source_fingerprint.cache_clear()
    yield tmp_path
    fingerprint.source_fingerprint.cache_clear()


def cache_keys(output_dir: str) -> dict[str, str]:
    """The fingerprint each component carries into its cache key."""
    config = load_config("timeseries", output_dir=output_dir)
    nodes = {c.id: c for c in create_pipeline(config).components}
    keys = {
        node: json.loads(nodes[node].exec_properties["custom_config"])[SOURCE_FINGERPRINT_KEY]
        for node in ("Transform", "Tuner", "Trainer", "Pusher")
    }
    keys |= {node: nodes[node].exec_properties["source_fingerprint"] for node in ("ExampleGen", "AnomalyGate", "Scorer")}
    keys["Evaluator"] = nodes["Evaluator"].exec_properties["eval_config"]  # JSON; custom metrics carry the key
    keys["schema"] = nodes["CuratedSchemaGen"].exec_properties["schema_text"]
    return keys


def keys_changed_by_editing(checkout, output: str, relative: str) -> set[str]:
    """The components whose cache key changes when `relative` (a file of the copy) is edited."""
    before = cache_keys(output)
    with open(checkout / relative, "a") as handle:
        handle.write("\n# an edit\n")
    fingerprint.source_fingerprint.cache_clear()
    after = cache_keys(output)
    return {node for node in before if before[node] != after[node]}


@pytest.mark.slow
def test_editing_a_model_file_changes_only_the_keys_of_what_runs_it(checkout, tmp_path_factory):
    changed = keys_changed_by_editing(checkout, str(tmp_path_factory.mktemp("out")), "models/patch_forecaster.py")
    assert changed == {"Tuner", "Trainer"}  # the Evaluator, Scorer and Pusher rerun on the new model artifact


@pytest.mark.slow
def test_editing_the_windowing_code_reruns_the_example_gen(checkout, tmp_path_factory):
    changed = keys_changed_by_editing(checkout, str(tmp_path_factory.mktemp("out")), "tasks/timeseries/windowing.py")
    assert "ExampleGen" in changed and "Transform" not in changed


def test_editing_the_schema_in_place_changes_its_key(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    shutil.copy(load_config("timeseries").schema_path, schema)
    first = cache_keys_with_schema(str(tmp_path), str(schema))
    text = schema.read_text()
    edited = text.replace("min: 40.0", "min: 30.0")
    assert edited != text  # the edit must reach the shipped schema's range
    schema.write_text(edited)
    assert cache_keys_with_schema(str(tmp_path), str(schema)) != first


def cache_keys_with_schema(output_dir: str, schema: str) -> str:
    config = load_config("timeseries", output_dir=output_dir, schema=schema)
    nodes = {c.id: c for c in create_pipeline(config).components}
    assert nodes["CuratedSchemaGen"].exec_properties["origin"] == "schema.pbtxt"  # never the local path
    return nodes["CuratedSchemaGen"].exec_properties["schema_text"]


def test_a_missing_module_is_an_error():
    with pytest.raises(ValueError, match="no project module"):
        fingerprint.source_fingerprint("components.no_such_module")
