"""Serve the vLLM double from a command line shaped like `vllm serve`, so the local runtime can start it.

The fake engine interpreter (`fake_engine_python`) runs this module in place of vLLM's launcher.
Environment: FAKE_ENGINE_KIND (embedding or chat), FAKE_ENGINE_CRASH=1 to exit at start with log lines,
FAKE_ENGINE_READY_AFTER_S to answer 503 while "loading", FAKE_ENGINE_LATENCY_S per request.
"""

import argparse
import os
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
    print(f"fake engine: serving {args.model} as {args.served_model_name}", flush=True)
    uvicorn.run(build_app(config), host=args.host, port=args.port, log_level="warning", lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
