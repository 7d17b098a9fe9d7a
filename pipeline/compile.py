"""Compile a task's pipeline for Vertex AI Pipelines or Kubeflow Pipelines (KFP v2 spec).

    python -m pipeline.compile --task timeseries --target vertex [--profile vertex] [--output-dir output]

The same `create_pipeline(config)` as the local run, compiled by TFX's
KubeflowV2DagRunner into OUTPUT_DIR/<task>/pipeline.json (a PipelineJob JSON wrapping
`pipelineSpec`). The container image, pipeline root, serving directory, data URI and
Beam arguments come from the profile (pipeline/profiles/<profile>.yaml, default: the
target's name); the orchestrator keeps its own ML Metadata, so no SQLite store is set.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys

import tasks
from data.config import PipelineConfig
from pipeline.config import load_config
from pipeline.profile import Profile, load_profile

SPEC_FILE = "pipeline.json"
# Remote runs read the data at a URI that a scheduled run reuses: were the ExampleGen
# cached, every run after the first would reuse the first run's examples. By default
# it is never cached; what follows it reruns only when its examples are new artifacts.
DEFAULT_UNCACHED = ("ExampleGen",)
REMOTE_TARGETS = ("vertex", "kubeflow")


@dataclasses.dataclass
class Compiled:
    spec_path: str
    config: PipelineConfig
    profile: Profile
    image: str
    pipeline_root: str
    beam_pipeline_args: list[str]


def remote_config(config: PipelineConfig, profile: Profile) -> PipelineConfig:
    """The task config with the profile's data URI (the local default file is not in the container)."""
    data = profile.data(config.task)
    if data is None and config.data is None:
        raise ValueError(
            f"profile '{profile.name}' gives no data URI for task '{config.task}': set data.{config.task} "
            f"(e.g. --profile-set data.{config.task}=gs://bucket/data.csv); the packaged default "
            "is prepared on this machine, where the pipeline's containers cannot read it"
        )
    return dataclasses.replace(config, data=data or config.data)


def compile_pipeline(
    config: PipelineConfig, profile: Profile, target: str, output_dir: str | None = None
) -> Compiled:
    from tfx import v1 as tfx

    from pipeline.create_pipeline import create_pipeline

    if target not in REMOTE_TARGETS:
        raise ValueError(f"target '{target}' must be one of {REMOTE_TARGETS}")
    if profile.target != target:
        raise ValueError(f"profile '{profile.name}' is for target '{profile.target}', not '{target}'")
    config = remote_config(config, profile)
    image = profile.image(config)
    beam_args = profile.beam_pipeline_args(config)
    deployment = profile.deployment(config)
    pipeline = create_pipeline(config, beam_pipeline_args=beam_args, deployment=deployment)

    spec_dir = pathlib.Path(output_dir) if output_dir else config.task_dir
    os.makedirs(spec_dir, exist_ok=True)
    spec_path = spec_dir / SPEC_FILE
    if spec_path.exists():
        spec_path.unlink()  # the runner refuses to overwrite
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=str(spec_dir),
        output_filename=SPEC_FILE,
    )
    runner.run(pipeline)
    set_task_caching(spec_path, uncached_tasks(profile))
    return Compiled(str(spec_path), config, profile, image, deployment.pipeline_root, beam_args)


def uncached_tasks(profile: Profile) -> list[str]:
    """The profile's `cache.uncached` (tasks never taken from cache), default: the ExampleGen."""
    cache = profile.section("cache")
    return list(cache.get("uncached", DEFAULT_UNCACHED) or [])


def set_task_caching(spec_path: pathlib.Path, uncached: list[str]) -> None:
    """Turn off `cachingOptions` of the `uncached` tasks in the compiled PipelineJob JSON.

    TFX's KubeflowV2DagRunner sets one cache flag for the whole pipeline; Vertex and
    KFP honour a per-task `cachingOptions.enableCache`, so it is set here.
    """
    job = json.loads(spec_path.read_text())
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    unknown = sorted(set(uncached) - set(tasks))
    if unknown:
        raise ValueError(f"profile cache.uncached names {unknown}, which are not tasks ({sorted(tasks)})")
    for name in uncached:
        tasks[name]["cachingOptions"] = {"enableCache": False}
    spec_path.write_text(json.dumps(job, indent=2, sort_keys=True))


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--target", choices=REMOTE_TARGETS, default="vertex")
    parser.add_argument("--profile", help="profile name or YAML path (default: the target's name)")
    parser.add_argument("--config", help="task config YAML (default: tasks/<task>/config.yaml)")
    parser.add_argument("--output-dir", default="output", help="OUTPUT_DIR; the spec goes to OUTPUT_DIR/<task>/")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="task config override")
    parser.add_argument(
        "--profile-set", action="append", default=[], metavar="KEY=VALUE",
        help="profile override, e.g. beam.runner=dataflow or vertex.project=my-project",
    )  # fmt: skip


def compile_from_args(args: argparse.Namespace) -> Compiled:
    config = load_config(args.task, args.config, args.set, output_dir=args.output_dir)
    profile = load_profile(args.profile or args.target, args.profile_set)
    return compile_pipeline(config, profile, args.target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    args = parser.parse_args(argv)
    try:
        compiled = compile_from_args(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"compile: {error}", file=sys.stderr)
        return 2
    print(f"Compiled {compiled.config.pipeline_name} for {args.target} (profile {compiled.profile.name}):")
    print(f"  spec           {compiled.spec_path}")
    print(f"  image          {compiled.image}")
    print(f"  pipeline root  {compiled.pipeline_root}")
    print(f"  data           {compiled.config.data}")
    print(f"  beam args      {' '.join(compiled.beam_pipeline_args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
