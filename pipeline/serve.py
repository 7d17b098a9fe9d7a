"""Serve the pushed model over TensorFlow Serving's REST API (`make serve TASK=text PORT=8501`).

    python -m pipeline.serve --task text [--output-dir output] [--port 8501]
        [--log-rate 1.0] [--log-file-mib 16] [--log-files 20]

The newest version under OUTPUT_DIR/<task>/serving/ is served as model `<task>`
(serving/server.py says what is served and how), with the run's own config. A sample
of the predictions (`--log-rate`, 0 for none) goes to OUTPUT_DIR/<task>/requests/
(serving/request_log.py), in at most `--log-files` files of `--log-file-mib` MiB each.
"""
from __future__ import annotations

import argparse
import sys
import threading

import tasks
from serving import request_log
from serving.server import Server

MIB = 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    from pipeline import run_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--log-rate", type=float, default=request_log.DEFAULT_RATE,
                        help="the share of predicted instances logged to OUTPUT_DIR/<task>/requests/ (0: none)")
    parser.add_argument("--log-file-mib", type=float, default=request_log.DEFAULT_MAX_BYTES / MIB,
                        help="a log file is rotated before it grows past this size")
    parser.add_argument("--log-files", type=int, default=request_log.DEFAULT_MAX_FILES,
                        help="the oldest log files are deleted beyond this many")
    args = parser.parse_args(argv)  # fmt: skip
    try:  # the run's own config unless CONFIG overrides it (pipeline/run_config.py)
        config = run_config.resolve("serve", args.task, args.output_dir, args.config)
    except (FileNotFoundError, ValueError) as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    try:
        log = None
        if args.log_rate > 0:
            folder = request_log.folder(config.task_dir)
            log = request_log.RequestLog(folder, args.log_rate, int(args.log_file_mib * MIB), args.log_files)
    except ValueError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    server = Server(config.task, config.serving_dir, args.host, args.port, request_log=log).start()
    current = server.repository.current
    shown = f"version {current.version}" if current else f"no version yet ({server.repository.last_error or 'none pushed'})"
    print(f"Serving '{config.task}' ({shown}) from {config.serving_dir} on http://{args.host}:{server.port}", flush=True)
    print(f"  curl http://{args.host}:{server.port}/v1/models/{config.task}", flush=True)
    if log is not None:
        print(f"  logging {args.log_rate:.0%} of predictions to {log.folder}", flush=True)
    return serve_until_interrupted(server)


def serve_until_interrupted(server: Server) -> int:
    """Block until Ctrl-C, then stop the server."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
