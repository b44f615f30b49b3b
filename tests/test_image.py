"""The Kubernetes work pool image: the Dockerfile and the prefect.yaml steps that build and push it.

No Docker engine runs here, so these checks read the files. What the Dockerfile copies must exist and
pass .dockerignore, and the image must run as a non-root user from a pinned base. The build and push
steps must call prefect-docker with arguments its functions accept.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = (PROJECT_DIR / "Dockerfile").read_text()
DOCKERIGNORE = (PROJECT_DIR / ".dockerignore").read_text().splitlines()
# Keyword arguments the build step passes through to docker-py's build() on purpose.
DOCKER_BUILD_KWARGS = {"platform"}


def instructions(name: str) -> list[list[str]]:
    """Return the arguments of every Dockerfile instruction called `name`, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [line.split()[1:] for line in joined.splitlines() if line.split()[:1] == [name]]


def copy_sources() -> list[str]:
    """Return every source path of the COPY instructions, flags left out."""
    return [source for arguments in instructions("COPY") for source in [arg for arg in arguments if not arg.startswith("--")][:-1]]


def ignored(path: str) -> bool:
    """Apply .dockerignore's patterns in order, the last match deciding, as Docker does."""
    result = False
    for pattern in (line.strip() for line in DOCKERIGNORE):
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        if fnmatch.fnmatch(path, pattern.lstrip("!").rstrip("/")):
            result = not negated
    return result


def run_benchmark_deployment() -> dict:
    """Return the run-benchmark entry of prefect.yaml."""
    config = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text())
    return next(entry for entry in config["deployments"] if entry["name"] == "run-benchmark")


def step(entries: list[dict]) -> tuple[str, dict]:
    """Return the function name and arguments of a one-step list."""
    (only,) = entries
    ((name, arguments),) = only.items()
    return name, arguments


@pytest.mark.parametrize("source", copy_sources())
def test_copied_file_exists(source):
    assert (PROJECT_DIR / source).exists()


@pytest.mark.parametrize("source", copy_sources())
def test_copied_file_not_ignored(source):
    assert not ignored(source)


def test_tests_not_copied():
    assert ignored("tests")


def test_runs_as_non_root():
    (user,) = instructions("USER")[-1]

    assert user not in ("0", "root")


def test_base_image_pinned():
    (default,) = [argument.split("=", 1)[1] for (argument, *_) in instructions("ARG") if argument.startswith("PYTHON_IMAGE=")]

    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", default)


def test_no_dev_extras_installed():
    runs = " ".join(" ".join(arguments) for arguments in instructions("RUN"))

    assert "pip install --no-cache-dir ." in runs
    assert "[dev]" not in runs


def test_entrypoint_in_workdir():
    # The pull step `set_working_directory: .` runs the entrypoint relative to WORKDIR.
    (workdir,) = instructions("WORKDIR")[-1]
    entrypoint_file = run_benchmark_deployment()["entrypoint"].split(":")[0]
    destinations = {Path(workdir, arguments[-1]).resolve() for arguments in instructions("COPY")}

    assert Path(workdir, entrypoint_file).resolve().parent in destinations


def test_build_step_arguments_accepted():
    name, arguments = step(run_benchmark_deployment()["build"])
    module, function = name.rsplit(".", 1)
    parameters = inspect.signature(getattr(importlib.import_module(module), function)).parameters
    passed = set(arguments) - {"id", "requires"}

    assert passed - set(parameters) - DOCKER_BUILD_KWARGS == set()


def test_push_step_arguments_accepted():
    name, arguments = step(run_benchmark_deployment()["push"])
    module, function = name.rsplit(".", 1)
    parameters = inspect.signature(getattr(importlib.import_module(module), function)).parameters

    assert set(arguments) - {"id", "requires"} - set(parameters) == set()


def test_build_uses_dockerfile():
    _, arguments = step(run_benchmark_deployment()["build"])

    assert (PROJECT_DIR / arguments["dockerfile"]).is_file()


def test_image_name_from_variables():
    _, arguments = step(run_benchmark_deployment()["build"])

    assert arguments["image_name"] == "{{ prefect.variables.modelgate_image_name }}"
    assert arguments["tag"] == "{{ prefect.variables.modelgate_image_tag }}"


def test_push_uses_build_outputs():
    build_id = step(run_benchmark_deployment()["build"])[1]["id"]
    _, arguments = step(run_benchmark_deployment()["push"])

    assert arguments["image_name"] == f"{{{{ {build_id}.image_name }}}}"
    assert arguments["tag"] == f"{{{{ {build_id}.tag }}}}"


def test_jobs_use_built_image():
    build_id = step(run_benchmark_deployment()["build"])[1]["id"]

    assert run_benchmark_deployment()["work_pool"]["job_variables"]["image"] == f"{{{{ {build_id}.image }}}}"


def test_step_requirement_matches_dev_pin():
    pyproject = (PROJECT_DIR / "pyproject.toml").read_text()
    requirement = step(run_benchmark_deployment()["build"])[1]["requires"]

    assert f'"{requirement}"' in pyproject


def test_flow_needs_no_left_out_package():
    # Packages of this repository that the image does not copy must not be imported by run-benchmark.
    packages = {path.parent.name for path in PROJECT_DIR.glob("*/__init__.py")} - {"tests"}
    left_out = sorted(packages - {Path(source).name for source in copy_sources()})
    module = run_benchmark_deployment()["entrypoint"].split(":")[0].removesuffix(".py").replace("/", ".")
    script = f"import sys\nfor name in {left_out!r}:\n    sys.modules[name] = None\nimport {module}\n"

    completed = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False)

    assert completed.returncode == 0, completed.stderr
