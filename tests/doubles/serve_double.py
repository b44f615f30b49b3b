"""Serve the vLLM double from a command line shaped like `vllm serve`, so the local runtime can start it.

The fake engine interpreter (`fake_engine_python`) runs this module in place of vLLM's launcher.
Environment: FAKE_ENGINE_KIND (embedding or chat), FAKE_ENGINE_CRASH=1 to exit at start with log lines,
FAKE_ENGINE_READY_AFTER_S to return 503 while "loading", FAKE_ENGINE_LATENCY_S per request.
"""

import argparse
import os
import socket
import sys

import uvicorn

from tests.doubles.vllm_like import VllmLikeConfig, build_app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("model")
    parser.add_argument("--served-model-name", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args, _engine_args = parser.parse_known_args()

    if os.environ.get("FAKE_ENGINE_CRASH") == "1":
        for step in range(5):
            print(f"fake engine: loading step {step}", flush=True)
        print("RuntimeError: fake engine failed to load the model", flush=True)
        return 1

    config = VllmLikeConfig(
        kind=os.environ.get("FAKE_ENGINE_KIND", "embedding"),
        served_name=args.served_model_name,
        ready_after_s=float(os.environ.get("FAKE_ENGINE_READY_AFTER_S", "0")),
        latency_s=float(os.environ.get("FAKE_ENGINE_LATENCY_S", "0")),
    )
    # Like the real launcher: bind first (port 0 lets the kernel pick), report the port, then serve.
    sock = socket.socket()
    sock.bind((args.host, args.port))
    port_file = os.environ.get("MODELGATE_PORT_FILE")
    if port_file:
        with open(f"{port_file}.tmp", "w", encoding="ascii") as handle:
            handle.write(str(sock.getsockname()[1]))
        os.replace(f"{port_file}.tmp", port_file)

    print(f"fake engine: serving {args.model} as {args.served_model_name}", flush=True)
    server = uvicorn.Server(uvicorn.Config(build_app(config), log_level="warning", lifespan="off"))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
