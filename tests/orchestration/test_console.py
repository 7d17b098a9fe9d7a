"""A run's terminal shows progress, notices and the summary; library output goes to the log file."""
import logging
import os
import subprocess
import sys

from data.notices import notices, progress
from pipeline import console


def test_library_output_goes_to_the_log_and_ours_to_the_terminal(tmp_path, capsys):
    log = tmp_path / "logs" / "run.log"
    root_handlers = logging.getLogger().handlers[:]
    with console.Console(str(log)) as terminal:
        os.write(2, b"E external/cuda_fft.cc Unable to register cuFFT factory\n")  # C++ straight to fd 2
        print("a library's print")
        logging.getLogger("absl").warning("ArtifactQuery.property_predicate is not supported.")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('beam worker WARN\\n')"], check=True)
        notices().warning("2 gaps in the series")
        terminal.say("[    1.0s] ExampleGen ...")
        progress().info("Trainer: epoch 1/2, loss 0.5")
        terminal.say("Run FAILED", error=True)
    shown = capsys.readouterr()
    assert shown.out == "[    1.0s] ExampleGen ...\n           Trainer: epoch 1/2, loss 0.5\n"
    assert shown.err == "WARNING: 2 gaps in the series\nRun FAILED\n"
    written = log.read_text()
    for line in ("Unable to register cuFFT", "a library's print", "ArtifactQuery", "beam worker WARN",
                 "2 gaps in the series", "ExampleGen ...", "Run FAILED", "epoch 1/2"):  # fmt: skip
        assert line in written, line
    assert logging.getLogger().handlers == root_handlers  # everything restored
    print("after")
    assert capsys.readouterr().out == "after\n"


def test_the_runner_does_not_patch_absl():
    import absl.logging  # noqa: F401  (imported as a run would)

    from pipeline import run_local  # noqa: F401

    assert "setLevel" not in vars(logging.getLogger("absl"))


def test_a_command_that_prints_its_results_keeps_them_on_the_terminal(tmp_path, capsys):
    """make predict/serve/report/inspect: their prints on the terminal, TensorFlow's C++ lines in the log."""
    log = tmp_path / "logs" / "predict.log"
    with console.Console(str(log), prints_to_terminal=True):
        os.write(2, b"E external/cuda_blas.cc Unable to register cuBLAS factory\n")
        logging.getLogger("tensorflow").warning("5 out of the last 5 calls triggered tf.function retracing")
        print("time  oil_temp")
    shown = capsys.readouterr()
    assert shown.out == "time  oil_temp\n" and shown.err == ""
    written = log.read_text()
    assert "cuBLAS" in written and "retracing" in written and "oil_temp" not in written


def test_quiet_routes_a_commands_start_up_to_its_own_log(tmp_path, capsys):
    from pipeline import quiet

    assert quiet.log_path("pipeline.report", ["--task", "text", "--output-dir", str(tmp_path), "--run", "-1"]) == (
        tmp_path.resolve() / "text" / "logs" / "report.log"
    )
    code = quiet.main(["pipeline.inspect_mlmd", "--task", "timeseries", "--output-dir", str(tmp_path)])
    shown = capsys.readouterr()
    assert code == 1 and shown.out == ""
    assert shown.err.startswith("inspect: no ML Metadata store") and len(shown.err.splitlines()) == 1, shown.err
    assert (tmp_path / "timeseries" / "logs" / "inspect_mlmd.log").exists()


def test_the_commands_that_route_library_output_import_no_tensorflow_before_they_do():
    """`make run-local` and `make schema` route TensorFlow's C++ start-up lines inside their Console;
    importing TensorFlow at module level would print them first (cuFFT, cuDNN, cuBLAS)."""
    code = "import sys, pipeline.run_local, pipeline.draft_schema, pipeline.quiet; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
    assert result.stdout.strip() == "False", result.stderr[-2000:]


def test_a_commands_out_option_is_not_taken_for_the_output_dir(tmp_path):
    """`make predict-batch OUT=x.csv` passes `--out x.csv`: argparse's prefix matching made it
    `--output-dir`, and the log folder was created where the predictions were to be written."""
    from pipeline import quiet

    argv = ["--task", "timeseries", "--output-dir", str(tmp_path), "--out", str(tmp_path / "batch.csv")]
    assert quiet.log_path("pipeline.predict_batch", argv) == tmp_path.resolve() / "timeseries" / "logs" / "predict_batch.log"
