# Image of modelgate's Kubernetes work pool: run-benchmark jobs (the benchmark client next to the model).
# It holds modelgate, its Prefect dependencies and prefect-kubernetes, and no model server.
# Build and push it with `prefect deploy --name run-benchmark` (prefect.yaml's build and push steps),
# or by hand: docker build -t registry.example.com/modelgate:0.1.0 .
#
# NOTE: the base is pinned by tag. Pin it by digest too where a registry can be queried, with
# --build-arg PYTHON_IMAGE=python:3.11.7-slim-bookworm@sha256:<digest>.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1

RUN useradd --create-home --uid 10001 --user-group modelgate

# The flow-run process starts here; prefect.yaml's pull step `set_working_directory: .` and the
# entrypoint flows/run_benchmark.py resolve against this folder.
WORKDIR /opt/modelgate
COPY pyproject.toml README.md ./
COPY modelgate ./modelgate
COPY flows ./flows

# Dependencies are pinned in pyproject.toml. The build files are removed so the image keeps only
# the installed package and the flow files.
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

USER 10001
