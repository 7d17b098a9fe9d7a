"""Deploy the pushed model to a Vertex AI endpoint (`make deploy TARGET=vertex [DRY_RUN=1]`).

    python -m pipeline.deploy --task text --target vertex [--version 1732550000] [--dry-run]

The model the Pusher wrote under the profile's `serving_dir` is uploaded to the Vertex
AI Model Registry with Google's prebuilt TensorFlow serving container (the same TF
Serving REST API as `make serve`), and deployed to an endpoint. Everything comes from
the profile (`pipeline/profiles/vertex.yaml`: project, region, `deploy.*`). With
--dry-run the two requests are printed and nothing is sent.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import tasks
from data.config import PipelineConfig
from pipeline import run_config
from pipeline.profile import Profile, load_profile

PREBUILT_TF_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-16:latest"  # TF 2.16, as trained


def build_requests(config: PipelineConfig, profile: Profile, version: str | None) -> dict[str, Any]:
    if profile.target != "vertex":
        raise ValueError(f"profile '{profile.name}' is for '{profile.target}': deploy needs a vertex profile")
    vertex, deploy = profile.section("vertex"), profile.section("deploy")
    serving_dir = profile.serving_dir(config)
    parent = f"projects/{vertex.get('project')}/locations/{vertex.get('region')}"
    name = f"transformers-{config.task}"
    return {
        "upload": {
            "method": "POST",
            "url": f"https://{vertex.get('region')}-aiplatform.googleapis.com/v1/{parent}/models:upload",
            "body": {"model": {
                "displayName": name,
                "artifactUri": f"{serving_dir}/{version or '<newest version under serving_dir>'}",
                "containerSpec": {"imageUri": deploy.get("image", PREBUILT_TF_IMAGE)},
                "labels": {"task": config.task},
            }},
        },
        "deploy": {
            "method": "POST",
            "url": f"https://{vertex.get('region')}-aiplatform.googleapis.com/v1/{parent}/endpoints/"
                   f"{deploy.get('endpoint') or '<new endpoint ' + name + '>'}:deployModel",
            "body": {"deployedModel": {
                "model": f"{parent}/models/<id from the upload>",
                "displayName": name,
                "dedicatedResources": {
                    "machineSpec": {"machineType": deploy.get("machine_type", "n1-standard-2")},
                    "minReplicaCount": int(deploy.get("min_replicas", 1)),
                    "maxReplicaCount": int(deploy.get("max_replicas", 2)),
                },
            }, "trafficSplit": {"0": 100}},
        },
    }  # fmt: skip


def newest_version(serving_dir: str) -> str:
    from components.export import serving_versions

    found = serving_versions(serving_dir)
    if not found:
        raise FileNotFoundError(f"no pushed model under {serving_dir}")
    return str(found[-1])


def send(config: PipelineConfig, profile: Profile, requests: dict[str, Any]) -> str:
    from google.cloud import aiplatform

    vertex = profile.section("vertex")
    aiplatform.init(project=vertex.get("project"), location=vertex.get("region"))
    upload, deploy = requests["upload"]["body"]["model"], requests["deploy"]["body"]["deployedModel"]
    model = aiplatform.Model.upload(
        display_name=upload["displayName"], artifact_uri=upload["artifactUri"],
        serving_container_image_uri=upload["containerSpec"]["imageUri"], labels=upload["labels"],
    )  # fmt: skip
    endpoint_id = profile.section("deploy").get("endpoint")
    endpoint = aiplatform.Endpoint(endpoint_id) if endpoint_id else aiplatform.Endpoint.create(upload["displayName"])
    resources = deploy["dedicatedResources"]
    model.deploy(
        endpoint=endpoint, deployed_model_display_name=deploy["displayName"],
        machine_type=resources["machineSpec"]["machineType"], min_replica_count=resources["minReplicaCount"],
        max_replica_count=resources["maxReplicaCount"], traffic_percentage=100,
    )  # fmt: skip
    return f"deployed {model.resource_name} to {endpoint.resource_name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--target", default="vertex", choices=["vertex"])
    parser.add_argument("--profile", help="profile name or YAML (default: vertex)")
    parser.add_argument("--profile-set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--version", help="the pushed version to deploy (default: the newest)")
    parser.add_argument("--dry-run", action="store_true", help="print the requests, send nothing")
    args = parser.parse_args(argv)
    try:
        config = run_config.resolve("deploy", args.task, args.output_dir)  # the run's own config
        profile = load_profile(args.profile or args.target, args.profile_set)
        version = args.version or (None if args.dry_run else newest_version(profile.serving_dir(config)))
        requests = build_requests(config, profile, version)
    except (ValueError, FileNotFoundError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(requests, indent=2))
        return 0
    print(send(config, profile, requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
