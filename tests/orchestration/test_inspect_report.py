"""inspect_mlmd and report: fast checks on a missing store; end-to-end checks on the shared small
run a user makes (`tests/e2e/user_run.py`), and `predict` and `serve` on it without its config."""
import json
import re

import httpx
import pytest

from pipeline import inspect_mlmd, predict, report, run_config, serve
from pipeline.config import load_config

COMPONENTS = {
    "ExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator", "AnomalyGate", "Transform",
    "Tuner", "Trainer", "LatestBlessedModelResolver", "Evaluator", "Pusher", "Scorer",
}  # fmt: skip


def test_inspect_missing_store_exits_nonzero_with_the_reason(tmp_path, capsys):
    assert inspect_mlmd.main(["--task", "timeseries", "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no ML Metadata store at" in err and "metadata.sqlite" in err and "run the pipeline first" in err


def test_inspect_empty_store_exits_nonzero(tmp_path, capsys):
    (tmp_path / "timeseries").mkdir()
    (tmp_path / "timeseries" / "metadata.sqlite").write_bytes(b"")
    assert inspect_mlmd.main(["--task", "timeseries", "--output-dir", str(tmp_path)]) == 1
    assert "not a readable ML Metadata store" in capsys.readouterr().err


def test_report_missing_store_exits_nonzero(tmp_path, capsys):
    assert report.main(["--task", "timeseries", "--output-dir", str(tmp_path)]) == 1
    assert "no ML Metadata store" in capsys.readouterr().err


@pytest.mark.e2e
def test_inspect_shows_every_component_and_the_decision(user_run, capsys):
    assert inspect_mlmd.main(["--task", "timeseries", "--output-dir", str(user_run), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["node"] for c in data["components"]} == COMPONENTS
    assert all(c["state"] in ("COMPLETE", "CACHED") for c in data["components"])
    decision = data["evaluation"]
    assert isinstance(decision["blessed"], bool) and decision["why"]
    for challenger in ("persistence", "seasonal_naive", "linear"):
        entry = decision["gate"][challenger]  # the paired gate's verdict, with its interval
        assert entry["ci_low"] <= entry["diff"] <= entry["ci_high"] and entry["verdict"] in ("better", "no_difference", "worse")
        assert f"{challenger}_mae" in decision["metrics"]["candidate"]
    gain = decision["transformer_gain"]
    assert gain["ci_low"] <= gain["diff"] <= gain["ci_high"] and isinstance(gain["kept_epoch"], int)
    scores = data["forecast_scores"]
    for split in ("eval", "test"):
        assert set(scores[split]) == {"model", "persistence", "seasonal_naive", "linear"}
        assert all(v["mae"] > 0 and v["rmse"] >= v["mae"] for v in scores[split].values())
    # TFMA and the paired gate read the same gate windows: the gate's linear gain is TFMA's MAE ratio, rearranged.
    metrics = decision["metrics"]["candidate"]
    assert decision["gate"]["linear"]["diff"] == pytest.approx(1 - metrics["forecast_mae"] / metrics["linear_mae"], abs=1e-5)
    # The model starts at the ridge solution inside RevIN, which beats persistence clearly on
    # the glucose series, and KeepBest never ends worse than the start: it is blessed.
    assert decision["blessed"], decision["why"]
    assert data["pushed_models"] and data["pushed_models"][-1]["version"]
    chain = [(step["type"], step["producer"]) for step in data["lineage"]]
    assert chain == [("PushedModel", "Pusher"), ("Model", "Trainer"), ("Examples", "Transform"),
                     ("Examples", "ExampleGen")]  # fmt: skip
    assert data["lineage"][-1]["source"].endswith("plant.csv")
    assert data["config"]["series"]["input_columns"] == ["bg"]  # the run's own config
    assert data["config_file"].endswith(run_config.RUN_CONFIG_FILE)
    assert inspect_mlmd.main(["--task", "timeseries", "--output-dir", str(user_run)]) == 0
    text = capsys.readouterr().out
    for line in ("Runs:", "Artifacts:", "Evaluator:", "Pushed models", "ExampleGen", "Scores (forecast_scores",
                 "gate (paired, 95 % intervals", "the linear challenger (ridge on the standardized windows): "):  # fmt: skip
        assert line in text
    assert "valueThreshold" not in text and "upperBound" not in text


@pytest.mark.e2e
def test_report_is_one_html_file_with_embedded_plots(user_run):
    assert report.main(["--task", "timeseries", "--output-dir", str(user_run)]) == 0  # no CONFIG: the run's
    page = (load_config("timeseries", output_dir=str(user_run)).task_dir / report.REPORT_FILE).read_text()
    titles = re.findall(r"<h2>([^<]+)</h2>", page)
    assert titles == ["Components", "Data statistics", "Learning curves", "Tuner trials", "Evaluation",
                      "Scores of the candidate and the challengers",
                      "Forecasts vs actual, with the challengers (test split)", "Error by horizon step"]  # fmt: skip
    assert page.count("data:image/png;base64,") >= 6
    for name in ("persistence", "seasonal_naive", "linear"):
        assert f"<td>{name}</td>" in page  # every challenger in the scores table
    assert "Not available" not in page
    assert "challengers on test windows of bg." in page  # the forecasts section read the user's columns
    assert "valueThreshold" not in page and "upperBound" not in page  # rules, in words
    assert "The gate, paired on the same eval examples" in page and "the persistence challenger" in page
    assert "fixed in the config (model.variant)" in page
    assert not re.search(r"(src|href)=[\"']https?://", page)  # self-contained: nothing fetched


@pytest.mark.e2e
def test_predict_without_a_config_forecasts_the_runs_columns(user_run, capsys):
    data = str(user_run.parent / "plant.csv")
    assert predict.main(["--task", "timeseries", "--output-dir", str(user_run), "--data", data]) == 0
    shown = capsys.readouterr()
    header = shown.out.splitlines()[2].split()
    assert header == ["stamp", "bg"], shown.out
    assert "notice" not in shown.out + shown.err


@pytest.mark.e2e
def test_serve_without_a_config_serves_the_runs_model(user_run, capsys, monkeypatch):
    seen = {}

    def ask_then_stop(server):
        seen["metadata"] = httpx.get(f"http://127.0.0.1:{server.port}/v1/models/timeseries/metadata").json()
        server.stop()
        return 0

    monkeypatch.setattr(serve, "serve_until_interrupted", ask_then_stop)
    assert serve.main(["--task", "timeseries", "--output-dir", str(user_run), "--port", "0"]) == 0
    assert "Serving 'timeseries' (version" in capsys.readouterr().out
    inputs = seen["metadata"]["metadata"]["signature_def"]["signature_def"]["predict_raw"]["inputs"]
    assert list(inputs) == ["bg"], inputs  # the window of the user's column, under its own name
