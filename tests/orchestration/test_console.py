"""A run's terminal shows progress, notices and the summary; library output goes to the log file."""
import logging
import os
import subprocess
import sys

from data.notices import notices
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
        terminal.say("Run FAILED", error=True)
    shown = capsys.readouterr()
    assert shown.out == "[    1.0s] ExampleGen ...\n"
    assert shown.err == "WARNING: 2 gaps in the series\nRun FAILED\n"
    written = log.read_text()
    for line in ("Unable to register cuFFT", "a library's print", "ArtifactQuery", "beam worker WARN",
                 "2 gaps in the series", "ExampleGen ...", "Run FAILED"):  # fmt: skip
        assert line in written, line
    assert logging.getLogger().handlers == root_handlers  # everything restored
    print("after")
    assert capsys.readouterr().out == "after\n"


def test_the_runner_does_not_patch_absl():
    import absl.logging  # noqa: F401  (imported as a run would)

    from pipeline import run_local  # noqa: F401

    assert "setLevel" not in vars(logging.getLogger("absl"))
