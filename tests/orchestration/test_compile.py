"""Compiling every task for every target: the KFP spec has the create_pipeline graph,
and the image, pipeline root and Beam arguments come from the profile (no pipeline run)."""
import json

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

import tasks
from data.config import REPO_ROOT
from pipeline import compile as compile_lib
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline
from pipeline.profile import load_profile

IMAGE = "registry.example/test/tfx-transformers:test"
CASES = [(task, target) for task in tasks.names() for target in compile_lib.REMOTE_TARGETS]


def load_spec(path: str) -> tuple[pipeline_spec_pb2.PipelineSpec, dict]:
    with open(path) as handle:
        job = json.load(handle)
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(job.get("pipelineSpec", job), spec, ignore_unknown_fields=True)
    return spec, job


@pytest.fixture(scope="module", params=CASES, ids=[f"{t}-{g}" for t, g in CASES])
def compiled(request, tmp_path_factory):
    task, target = request.param
    config = load_config(task, output_dir=str(tmp_path_factory.mktemp(f"{task}-{target}")))
    profile = load_profile(target, [f"image={IMAGE}"])
    result = compile_lib.compile_pipeline(config, profile, target)
    spec, job = load_spec(result.spec_path)
    return result, spec, job


def node_of(task_name: str, node_ids: set[str]) -> str:
    """KFP task -> TFX node id (a Resolver compiles to one task per input: `<id>-<input>-resolver`)."""
    if task_name in node_ids:
        return task_name
    matches = [n for n in node_ids if task_name.startswith(n + "-")]
    assert len(matches) == 1, f"KFP task {task_name} matches no single node of {sorted(node_ids)}"
    return matches[0]


@pytest.mark.slow
def test_spec_path_is_under_output_dir(compiled):
    result, _, _ = compiled
    assert result.spec_path == str(result.config.task_dir / "pipeline.json")


def test_task_graph_matches_create_pipeline(compiled):
    result, spec, _ = compiled
    pipeline = create_pipeline(result.config, deployment=result.profile.deployment(result.config))
    expected = {node.id: {u.id for u in node.upstream_nodes} for node in pipeline.components}
    tasks = spec.root.dag.tasks
    compiled_graph: dict[str, set[str]] = {}
    for name, task in tasks.items():
        node = node_of(name, set(expected))
        compiled_graph.setdefault(node, set()).update(node_of(d, set(expected)) for d in task.dependent_tasks)
    assert compiled_graph == expected
    assert spec.pipeline_info.name == result.config.pipeline_name


def test_image_pipeline_root_and_beam_args_come_from_profile(compiled):
    result, spec, job = compiled
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    containers = [e["container"] for e in executors.values() if "container" in e]
    assert containers and {c["image"] for c in containers} == {IMAGE}
    root = result.profile.pipeline_root(result.config)
    assert root.startswith("gs://") and result.config.task in root
    assert job["runtimeConfig"]["gcsOutputDirectory"] == root
    beam_args = result.profile.beam_pipeline_args(result.config)
    transform_args = executors["Transform_executor"]["container"]["args"]
    assert all(arg in transform_args for arg in beam_args)
    assert result.config.data == result.profile.data(result.config.task)


def beam_component_args(result, spec) -> dict[str, list[str]]:
    """Compiled container args of every Beam-powered component (TFX's and ours), by node id."""
    from tfx.dsl.components.base.base_beam_component import BaseBeamComponent

    pipeline = create_pipeline(result.config, deployment=result.profile.deployment(result.config))
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    return {c.id: executors[f"{c.id}_executor"]["container"]["args"]
            for c in pipeline.components if isinstance(c, BaseBeamComponent)}  # fmt: skip


def test_every_beam_component_carries_the_profile_beam_args(compiled):
    result, spec, _ = compiled
    beam = beam_component_args(result, spec)
    tfma = tasks.spec(result.config.task).evaluator is None  # else the task's own gate, without Beam
    assert {"StatisticsGen", "Transform", *(["Evaluator"] if tfma else [])} <= set(beam)  # components/evaluator.py
    for node, args in beam.items():
        assert [a for a in args if a in result.beam_pipeline_args] == result.beam_pipeline_args, node


@pytest.mark.parametrize("task", tasks.names())
def test_vertex_runs_the_beam_components_on_dataflow_in_the_project_image(task, tmp_path):
    config = load_config(task, output_dir=str(tmp_path))
    result = compile_lib.compile_pipeline(config, load_profile("vertex", [f"image={IMAGE}"]), "vertex")
    spec, _ = load_spec(result.spec_path)
    region = result.profile.section("vertex")["region"]
    for node, args in beam_component_args(result, spec).items():
        options = dict(a.removeprefix("--").split("=", 1) for a in args if a.startswith("--") and "=" in a)
        assert options.get("runner") == "DataflowRunner", node
        assert options.get("region") == region, node
        assert options.get("temp_location", "").startswith("gs://"), node  # Dataflow stages through GCS
        assert options.get("sdk_container_image") == IMAGE, node  # the workers import the project's modules


def test_no_local_paths_in_remote_spec(compiled):
    result, _, _ = compiled
    text = open(result.spec_path).read()
    assert "metadata.sqlite" not in text
    assert str(result.config.task_dir / "serving") not in text  # the serving dir is the profile's
    assert str(REPO_ROOT) not in text  # neither the schema's path nor any other of this checkout
    assert str(result.config.task_dir.parent) not in text


def test_the_schema_travels_inside_the_spec(compiled):
    result, _, job = compiled
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    parameters = tasks["CuratedSchemaGen"]["inputs"]["parameters"]
    schema_text = parameters["schema_text"]["runtimeValue"]["constantValue"]["stringValue"]
    with open(result.config.schema_path) as handle:
        assert schema_text == handle.read()
    assert parameters["origin"]["runtimeValue"]["constantValue"]["stringValue"] == result.config.schema


def test_scheduled_runs_never_reuse_the_examples(compiled):
    """The ExampleGen reads the same URI every run: it is never taken from cache; the rest is."""
    _, _, job = compiled
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    caching = {name: task.get("cachingOptions", {}).get("enableCache", False) for name, task in tasks.items()}
    assert caching["ExampleGen"] is False
    assert caching["Transform"] and caching["Trainer"] and caching["Evaluator"]


def test_the_profile_chooses_what_is_not_cached(tmp_path):
    config = load_config("timeseries", output_dir=str(tmp_path))
    profile = load_profile("kubeflow", [f"image={IMAGE}", "cache.uncached=[ExampleGen, Transform]"])
    _, job = load_spec(compile_lib.compile_pipeline(config, profile, "kubeflow").spec_path)
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {n for n, t in tasks.items() if t.get("cachingOptions", {}).get("enableCache") is False} == {
        "ExampleGen", "Transform"
    }
    with pytest.raises(ValueError, match="Tranform"):
        compile_lib.compile_pipeline(config, load_profile("kubeflow", ["cache.uncached=[Tranform]"]), "kubeflow")


def test_trainer_runs_on_vertex_training_only_with_the_vertex_profile(compiled):
    result, spec, _ = compiled
    executors = json_format.MessageToDict(spec.deployment_spec)["executors"]
    trainer_args = " ".join(executors["Trainer_executor"]["container"]["args"])
    on_vertex = "google_cloud_ai_platform.trainer" in trainer_args
    assert on_vertex == (result.profile.target == "vertex")


def test_beam_runner_preset_is_selectable_by_profile_key(tmp_path):
    config = load_config("timeseries", output_dir=str(tmp_path))
    profile = load_profile("kubeflow", ["beam.runner=flink"])
    assert "--runner=FlinkRunner" in profile.beam_pipeline_args(config)
    config = load_config("timeseries", overrides=["beam.runner=spark"], output_dir=str(tmp_path))
    assert "--runner=SparkRunner" in load_profile("kubeflow").beam_pipeline_args(config)
    assert "--runner=DataflowRunner" in load_profile("vertex").beam_pipeline_args(
        load_config("timeseries", output_dir=str(tmp_path))
    )
    local = load_profile("local").beam_pipeline_args(load_config("timeseries", output_dir=str(tmp_path)))
    assert "--direct_running_mode=multi_processing" in local


def test_local_auto_runner_runs_small_data_in_process_and_large_data_on_workers(tmp_path):
    config = load_config("timeseries", output_dir=str(tmp_path))
    profile = load_profile("local")
    limit = profile.section("beam")["in_memory_max_mb"] * 2**20
    small, why = profile.beam_choice(config, int(limit))
    assert small == "direct_in_memory" and "<= in_memory_max_mb" in why
    assert "--direct_running_mode=in_memory" in profile.beam_pipeline_args(config, int(limit))
    large, why = profile.beam_choice(config, int(limit) + 1)
    assert large == "direct" and "> in_memory_max_mb" in why
    assert profile.beam_choice(config, None)[0] == "direct"  # size unknown: the workers
    lowered = load_config("timeseries", overrides=["beam.in_memory_max_mb=0.5"], output_dir=str(tmp_path))
    assert profile.beam_choice(lowered, 2**20)[0] == "direct"  # the task config's limit first
    pinned = load_config("timeseries", overrides=["beam.runner=direct"], output_dir=str(tmp_path))
    assert profile.beam_choice(pinned, 1) == ("direct", "beam.runner=direct")


@pytest.mark.parametrize(("profile", "runner"), [("local", "direct_in_memory"), ("local", "direct"),
                                                 ("kubeflow", "direct"), ("vertex", "direct")])  # fmt: skip
def test_direct_presets_name_a_dependency_so_tfx_builds_no_package_of_itself(tmp_path, profile, runner):
    """TFX adds an sdist of itself (2 s before every Beam component) to arguments that name no
    dependency; DirectRunner never reads it."""
    from tfx.utils import dependency_utils

    config = load_config("timeseries", overrides=[f"beam.runner={runner}"], output_dir=str(tmp_path))
    args = load_profile(profile).beam_pipeline_args(config)
    assert dependency_utils.make_beam_dependency_flags(args) == args


def test_unknown_beam_preset_names_the_known_ones(tmp_path):
    config = load_config("timeseries", output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="presets: .*dataflow"):
        load_profile("vertex", ["beam.runner=nope"]).beam_pipeline_args(config)


def test_remote_compile_without_data_uri_says_what_to_set(tmp_path):
    config = load_config("timeseries", output_dir=str(tmp_path))
    profile = load_profile("vertex", ["data={}"])
    with pytest.raises(ValueError, match="data.timeseries"):
        compile_lib.compile_pipeline(config, profile, "vertex")


def constant(value: dict):
    """A compiled parameter's constant: `constant` (Kubeflow) or `constantValue.stringValue` (Vertex)."""
    return value["constant"] if "constant" in value else value["constantValue"]["stringValue"]


@pytest.mark.parametrize("target", compile_lib.REMOTE_TARGETS)
def test_a_span_pattern_reaches_the_compiled_example_gen_with_its_window(tmp_path, target):
    """Remote runs read spans as local ones do: the ExampleGen gets the gs:// pattern and the
    `spans:` settings, and resolves the window itself when it runs; a warm start resolves the
    latest blessed model with TFX's own strategy, the one Kubeflow V2 compiles."""
    pattern = "gs://bucket/data/glucose/glucose-{SPAN}-v{VERSION}.csv"
    config = load_config("timeseries", output_dir=str(tmp_path),
                         overrides=["spans.window=30", "spans.split=spans", "trainer.warm_start=true"])  # fmt: skip
    profile = load_profile(target, [f"image={IMAGE}", f"data.timeseries={pattern}"])
    _, job = load_spec(compile_lib.compile_pipeline(config, profile, target).spec_path)
    dag = job.get("pipelineSpec", job)["root"]["dag"]["tasks"]
    parameters = {k: constant(v["runtimeValue"]) for k, v in dag["ExampleGen"]["inputs"]["parameters"].items()}
    assert parameters["source"] == pattern
    assert json.loads(parameters["task_config"])["spans"] == {
        "window": 30, "until": None, "split": "spans", "eval_spans": 1, "test_spans": 1,
    }  # fmt: skip
    assert any(name.startswith("WarmStartModelResolver") for name in dag)
    assert "base_model" in dag["Trainer"]["inputs"]["artifacts"]


@pytest.mark.parametrize("workers", [1, 3])
def test_vertex_trainer_asks_for_trainer_workers_replicas_and_the_tuner_for_one(tmp_path, workers):
    """Vertex's pools: pool 0 the chief (1 replica), pool 1 the other workers; Vertex's TF_CONFIG
    then names `trainer.workers` processes (components/distribution.py reads it)."""
    config = load_config("timeseries", output_dir=str(tmp_path), overrides=[f"trainer.workers={workers}"])
    _, job = load_spec(compile_lib.compile_pipeline(config, load_profile("vertex", [f"image={IMAGE}"]), "vertex").spec_path)
    dag = job["pipelineSpec"]["root"]["dag"]["tasks"]

    def pools(component: str, key: str) -> list[int]:
        custom = json.loads(constant(dag[component]["inputs"]["parameters"]["custom_config"]["runtimeValue"]))
        spec = custom[key].get("job_spec", custom[key])  # the Tuner's arguments nest the CustomJobSpec
        return [pool["replica_count"] for pool in spec["worker_pool_specs"]]

    assert pools("Trainer", "ai_platform_training_args") == ([1, workers - 1] if workers > 1 else [1])
    assert sum(pools("Trainer", "ai_platform_training_args")) == workers
    assert pools("Tuner", "ai_platform_tuning_args") == [1]
    assert "tune_args" not in dag["Tuner"]["inputs"]["parameters"]  # one trial at a time


def test_vertex_tuner_runs_parallel_trials_on_as_many_replicas(tmp_path):
    """`tuner.parallel_trials=3`: TFX's Vertex Tuner gets TuneArgs(num_parallel_trials=3) and the
    one-replica pool it extends (in `job_spec`, the shape its executor reads) with 2 more."""
    config = load_config("timeseries", output_dir=str(tmp_path), overrides=["tuner.max_trials=3", "tuner.parallel_trials=3"])
    _, job = load_spec(compile_lib.compile_pipeline(config, load_profile("vertex", [f"image={IMAGE}"]), "vertex").spec_path)
    parameters = job["pipelineSpec"]["root"]["dag"]["tasks"]["Tuner"]["inputs"]["parameters"]
    assert json.loads(constant(parameters["tune_args"]["runtimeValue"])) == {"num_parallel_trials": 3}
    custom = json.loads(constant(parameters["custom_config"]["runtimeValue"]))
    assert [pool["replica_count"] for pool in custom["ai_platform_tuning_args"]["job_spec"]["worker_pool_specs"]] == [1]
    assert custom["ai_platform_tuning_args"]["project"] and custom["tuner"]["parallel_trials"] == 3


def test_parallel_trials_locally_are_said_to_run_one_at_a_time(tmp_path, caplog):
    from pipeline.profile import training_components

    with caplog.at_level("WARNING", logger="tfx_transformers"):
        tuner, _, _, extra = training_components(None, {"tuner": {"parallel_trials": 2, "max_trials": 3}})
    assert extra == {} and tuner.__module__.startswith("tfx.components.tuner")
    assert "only Vertex training runs" in caplog.text and "one at a time" in caplog.text
    for parallel in (0, 4):  # none at once, or more at once than there are trials
        with pytest.raises(ValueError, match=rf"tuner.parallel_trials is {parallel}: .* tuner.max_trials \(3\)"):
            training_components(None, {"tuner": {"parallel_trials": parallel, "max_trials": 3}})
