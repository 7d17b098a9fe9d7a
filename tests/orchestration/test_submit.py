"""`pipeline.submit --dry-run`: prints the exact request (run or schedule) and sends nothing."""
import json

import pytest

from pipeline import submit


@pytest.fixture(autouse=True)
def no_sending(monkeypatch):
    def refuse(request):
        raise AssertionError("--dry-run must not send anything")

    monkeypatch.setattr(submit, "send_vertex", refuse)
    monkeypatch.setattr(submit, "send_kubeflow", refuse)


def dry_run(capsys, tmp_path, *args: str) -> dict:
    argv = ["--task", "timeseries", "--output-dir", str(tmp_path), "--job-name", "job-1", "--dry-run", *args]
    assert submit.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_vertex_run_request(capsys, tmp_path):
    request = dry_run(capsys, tmp_path, "--target", "vertex", "--param", "note=nightly")
    assert request == {
        "target": "vertex",
        "action": "run",
        "spec_path": str(tmp_path.resolve() / "timeseries" / "pipeline.json"),
        "job_name": "job-1",
        "pipeline_root": "gs://my-bucket/tfx-transformers/timeseries/pipeline_root",
        "image": "us-central1-docker.pkg.dev/my-project/tfx-transformers/pipeline:0.1.0",
        "parameters": {"note": "nightly"},
        "data": "all of gs://my-bucket/data/v1/glucose.csv, read anew at each run",
        "service_account": "tfx-pipelines@my-project.iam.gserviceaccount.com",
        "enable_caching": True,
        "project": "my-project",
        "region": "us-central1",
        "experiment": None,
        "cron": None,
    }
    assert (tmp_path / "timeseries" / "pipeline.json").is_file()


def test_vertex_schedule_request(capsys, tmp_path):
    request = dry_run(
        capsys, tmp_path, "--target", "vertex", "--schedule", "0 3 * * *", "--profile-set", "vertex.project=p2"
    )
    assert request["action"] == "schedule"
    assert request["cron"] == "0 3 * * *"
    assert request["project"] == "p2"


def test_a_schedule_on_spans_says_which_spans_each_run_picks_up(capsys, tmp_path):
    pattern = "gs://bucket/glucose/glucose-{SPAN}.csv"
    request = dry_run(capsys, tmp_path, "--target", "vertex", "--schedule", "0 3 * * *",
                      "--profile-set", f"data.timeseries={pattern}", "--set", "spans.window=30")  # fmt: skip
    assert request["data"].startswith(f"the newest 30 spans of {pattern} found when the run starts")


def test_kubeflow_run_request(capsys, tmp_path):
    request = dry_run(capsys, tmp_path, "--target", "kubeflow")
    assert request["action"] == "run"
    assert request["host"] == "http://localhost:8080"
    assert request["namespace"] == "kubeflow"
    assert request["experiment"] == "tfx-transformers"
    assert request["service_account"] == "pipeline-runner"
    assert request["cron"] is None
    assert request["image"] == "ghcr.io/my-org/tfx-transformers:0.1.0"


def test_kubeflow_schedule_uses_six_field_cron(capsys, tmp_path):
    request = dry_run(capsys, tmp_path, "--target", "kubeflow", "--schedule", "30 2 * * 1")
    assert request["action"] == "schedule"
    assert request["cron"] == "0 30 2 * * 1"


def test_bad_cron_is_rejected(capsys, tmp_path):
    argv = ["--task", "timeseries", "--target", "vertex", "--output-dir", str(tmp_path), "--dry-run",
            "--schedule", "every night"]  # fmt: skip
    assert submit.main(argv) == 2
    assert "5 fields" in capsys.readouterr().err
