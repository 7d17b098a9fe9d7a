"""Serve the pushed model over TensorFlow Serving's REST API (`make serve TASK=text PORT=8501`).

    python -m pipeline.serve --task text [--output-dir output] [--port 8501]

The newest version under OUTPUT_DIR/<task>/serving/ is served as model `<task>`
(serving/server.py says what is served and how), with the run's own config.
"""
from __future__ import annotations

import argparse
import sys
import threading

import tasks
from serving.server import Server


def main(argv: list[str] | None = None) -> int:
    from pipeline import run_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=tasks.DEFAULT_TASK)
    parser.add_argument("--config", help="config YAML (default: the one the run recorded, else tasks/<task>/config.yaml)")
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8501)
    args = parser.parse_args(argv)
    try:  # the run's own config unless CONFIG overrides it (pipeline/run_config.py)
        config = run_config.resolve("serve", args.task, args.output_dir, args.config)
    except (FileNotFoundError, ValueError) as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    server = Server(config.task, config.serving_dir, args.host, args.port).start()
    current = server.repository.current
    shown = f"version {current.version}" if current else f"no version yet ({server.repository.last_error or 'none pushed'})"
    print(f"Serving '{config.task}' ({shown}) from {config.serving_dir} on http://{args.host}:{server.port}", flush=True)
    print(f"  curl http://{args.host}:{server.port}/v1/models/{config.task}", flush=True)
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
