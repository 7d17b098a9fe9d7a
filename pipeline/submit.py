"""Submit (or schedule) a compiled pipeline on Vertex AI Pipelines or Kubeflow Pipelines.

    python -m pipeline.submit --task timeseries --target vertex [--dry-run]
    python -m pipeline.submit --task timeseries --target kubeflow --schedule "0 3 * * *"

Compiles first (pipeline.compile, same profile), then sends one request:
Vertex: `aiplatform.PipelineJob(...).submit(service_account=...)` or `.create_schedule(cron=...)`;
Kubeflow: `kfp.Client(host=...).create_run_from_pipeline_package(...)` or `create_recurring_run(...)`.
`--dry-run` prints that request as JSON and sends nothing. Cron is the usual five fields
("minute hour day month weekday"); for Kubeflow, whose cron has a leading seconds field,
"0 " is prepended.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Any

from data import spans
from pipeline import compile as compile_lib


def job_name(pipeline_name: str, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.UTC)
    return f"{pipeline_name}-{now:%Y%m%d-%H%M%S}"


def kfp_cron(cron: str) -> str:
    fields = cron.split()
    if len(fields) == 5:
        return "0 " + cron.strip()
    if len(fields) == 6:
        return cron.strip()
    raise ValueError(f"cron '{cron}' must have 5 fields (minute hour day month weekday)")


def build_request(compiled: compile_lib.Compiled, target: str, cron: str | None, parameters: dict[str, Any],
                  name: str) -> dict[str, Any]:  # fmt: skip
    """Everything the live call sends, as plain data (what --dry-run prints)."""
    orchestrator = compiled.profile.section(target)
    request: dict[str, Any] = {
        "target": target,
        "action": "schedule" if cron else "run",
        "spec_path": compiled.spec_path,
        "job_name": name,
        "pipeline_root": compiled.pipeline_root,
        "image": compiled.image,
        "parameters": parameters,
        "data": spans.describe(compiled.config.data, compiled.config.spans),  # what each run picks up
        "service_account": orchestrator.get("service_account"),
        "enable_caching": True,
    }
    if target == "vertex":
        if cron and len(cron.split()) != 5:
            raise ValueError(f"cron '{cron}' must have 5 fields (minute hour day month weekday)")
        request |= {"project": orchestrator.get("project"), "region": orchestrator.get("region"),
                    "experiment": orchestrator.get("experiment"), "cron": cron}  # fmt: skip
    else:
        request |= {"host": orchestrator.get("host"), "namespace": orchestrator.get("namespace", "kubeflow"),
                    "experiment": orchestrator.get("experiment") or "Default",
                    "cron": kfp_cron(cron) if cron else None}  # fmt: skip
    return request


def send_vertex(request: dict[str, Any]) -> str:
    from google.cloud import aiplatform

    aiplatform.init(project=request["project"], location=request["region"])
    job = aiplatform.PipelineJob(
        display_name=request["job_name"],
        template_path=request["spec_path"],
        pipeline_root=request["pipeline_root"],
        parameter_values=request["parameters"],
        enable_caching=request["enable_caching"],
        project=request["project"],
        location=request["region"],
    )
    if request["cron"]:
        schedule = job.create_schedule(
            cron=request["cron"], display_name=request["job_name"], service_account=request["service_account"]
        )
        return f"Vertex AI schedule {schedule.resource_name}"
    job.submit(service_account=request["service_account"], experiment=request["experiment"])
    return f"Vertex AI pipeline job {job.resource_name}"


def send_kubeflow(request: dict[str, Any]) -> str:
    import kfp

    client = kfp.Client(host=request["host"], namespace=request["namespace"])
    if request["cron"]:
        experiment = client.create_experiment(name=request["experiment"], namespace=request["namespace"])
        run = client.create_recurring_run(
            experiment_id=experiment.experiment_id,
            job_name=request["job_name"],
            cron_expression=request["cron"],
            pipeline_package_path=request["spec_path"],
            params=request["parameters"],
            pipeline_root=request["pipeline_root"],
            enable_caching=request["enable_caching"],
            service_account=request["service_account"],
        )
        return f"Kubeflow recurring run {run.recurring_run_id}"
    result = client.create_run_from_pipeline_package(
        pipeline_file=request["spec_path"],
        arguments=request["parameters"],
        run_name=request["job_name"],
        experiment_name=request["experiment"],
        namespace=request["namespace"],
        pipeline_root=request["pipeline_root"],
        enable_caching=request["enable_caching"],
        service_account=request["service_account"],
    )
    return f"Kubeflow run {result.run_id}"


def parse_parameters(items: list[str]) -> dict[str, Any]:
    parameters = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--param '{item}' must look like name=value")
        key, value = item.split("=", 1)
        parameters[key] = value
    return parameters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    compile_lib.add_common_args(parser)
    parser.add_argument("--schedule", metavar="CRON", help='create a schedule instead of one run, e.g. "0 3 * * *"')
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="runtime parameter")
    parser.add_argument("--job-name", help="default: <pipeline name>-<UTC timestamp>")
    parser.add_argument("--dry-run", action="store_true", help="print the request as JSON; send nothing")
    args = parser.parse_args(argv)
    try:
        compiled = compile_lib.compile_from_args(args)
        name = args.job_name or job_name(compiled.config.pipeline_name)
        request = build_request(compiled, args.target, args.schedule, parse_parameters(args.param), name)
    except (ValueError, FileNotFoundError) as error:
        print(f"submit: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(request, indent=2, sort_keys=True))
        return 0
    send = send_vertex if args.target == "vertex" else send_kubeflow
    print(f"each run reads {request['data']}")
    print(send(request))
    return 0


if __name__ == "__main__":
    sys.exit(main())
