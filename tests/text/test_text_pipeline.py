"""The text task through the shared `create_pipeline` (construction only, fast)."""
import json

import pytest

import tasks
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline
from tasks.text import features
from tasks.text import gate as text_gate


def test_text_pipeline_is_built_by_the_shared_factory(tmp_path):
    config = load_config("text", output_dir=str(tmp_path))
    pipeline = create_pipeline(config)
    ids = {c.id for c in pipeline.components}
    assert ids == {
        "ExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator", "AnomalyGate", "Transform",
        "Tuner", "Trainer", "LatestBlessedModelResolver", "Evaluator", "Pusher", "Scorer",
    }  # fmt: skip
    assert (tmp_path / "text" / "data" / "rotten_tomatoes.csv").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("task", tasks.names())
def test_entry_points_resolve_to_the_task_functions(task, tmp_path):
    """Every dotted path the pipeline hands TFX names a function of that task's modules."""
    import importlib

    nodes = {c.id: c for c in create_pipeline(load_config(task, output_dir=str(tmp_path))).components}
    paths = {
        "Transform": nodes["Transform"].exec_properties["preprocessing_fn"],
        "Tuner": nodes["Tuner"].exec_properties["tuner_fn"],
        "Trainer": nodes["Trainer"].exec_properties["run_fn"],
    }
    if tasks.spec(task).score_fn:  # the decision task is scored by acting, in its Evaluator
        paths["Scorer"] = nodes["Scorer"].exec_properties["score_fn"]
    assert ("Scorer" in nodes) == bool(tasks.spec(task).score_fn)
    for node, dotted in paths.items():
        module, name = dotted.rsplit(".", 1)
        # The Scorer's function may be shared by tasks (components/classification.py).
        assert module.startswith((f"tasks.{task}.", "components.") if node == "Scorer" else f"tasks.{task}."), (node, dotted)
        assert callable(getattr(importlib.import_module(module), name)), (node, dotted)
    assert paths["Transform"] == f"tasks.{task}.preprocessing.preprocessing_fn"  # not the training module
    splits = json.loads(nodes["Transform"].exec_properties["splits_config"])
    assert splits == {"analyze": ["train"], "transform": ["train", "eval", "test"]}  # train statistics only


def test_eval_config_slices_by_length_and_the_gate_is_paired(tmp_path):
    config = load_config("text", output_dir=str(tmp_path), overrides=["evaluation.margin=0.01"])
    eval_config = text_gate.eval_config(config)
    assert [list(s.feature_keys) for s in eval_config.slicing_specs] == [[], [features.LENGTH_BUCKET_KEY]]
    # TFMA reports; it gates on nothing (a point estimate decided by noise): the paired rule blesses
    assert not any(m.per_slice_thresholds or m.threshold.ByteSize() for spec in eval_config.metrics_specs for m in spec.metrics)
    spec = text_gate.gate(config)
    assert {c.name: (c.rule, c.margin) for c in spec.comparisons} == {"majority": ("superiority", 0.0), "baseline": ("non_inferiority", 0.01)}
    assert spec.start == "wide"  # the default model learns over a wide part with character n-grams
    binarized = [s for s in eval_config.metrics_specs if s.binarize.class_ids.values]
    assert list(binarized[0].binarize.class_ids.values) == [0, 1]  # fresh, rotten from the schema


def test_cache_can_be_turned_off(tmp_path):
    config = load_config("text", output_dir=str(tmp_path))
    assert create_pipeline(config).enable_cache
    assert not create_pipeline(config, enable_cache=False).enable_cache


def test_run_local_takes_no_cache():
    from pipeline import run_local

    assert run_local.parse_args(["--no-cache"]).no_cache and not run_local.parse_args([]).no_cache


def test_the_wide_part_adds_character_ngrams_unless_told_not_to():
    from tasks.text import module

    config = load_config("text")
    assert module.prior_char_ngrams(config) == module.DEFAULT_PRIOR_CHAR_NGRAMS
    config.model["prior_char_ngrams"] = [3, 4]
    assert module.prior_char_ngrams(config) == (3, 4)
    config.model["prior_char_ngrams"] = []
    assert module.prior_char_ngrams(config) is None  # the challenger itself is the wide part
    config.model["prior_char_ngrams"] = [5, 2]
    with pytest.raises(ValueError, match=r"model.prior_char_ngrams.*\[5, 2\]"):
        module.prior_char_ngrams(config)
