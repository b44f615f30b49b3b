"""The markdown benchmark report: model, type, endpoints, load, key figures, verdict and latency plot."""

from __future__ import annotations

import base64
from typing import Any

from modelgate.verify import Verdict

LATENCY_METRICS = ("e2el", "ttft", "tpot", "itl")
STATISTICS = ("mean", "median", "p90", "p99")
RUN_FIGURES = ("sent", "completed", "failed", "failure_rate", "duration_s", "request_throughput", "input_throughput", "output_throughput")


def png_data_uri(png: bytes) -> str:
    """Return `png` as a data: URI, so the image shows with no file server and no network."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_report(
    name: str,
    model_type: str | None,
    endpoints: dict[str, bool],
    summary: dict[str, Any],
    load: dict[str, Any] | None = None,
    verdict: Verdict | None = None,
    plot_png: bytes | None = None,
    records_location: str | None = None,
    notes: list[str] | None = None,
) -> str:
    """Return the report as markdown; every section renders even when its figures are missing."""
    sections = [f"# Benchmark of `{name}`", _headline(model_type, verdict)]
    sections.append(_endpoints_table(endpoints))
    if load:
        sections.append("## Load\n\n" + ", ".join(f"{key} **{_format(value)}**" for key, value in load.items()))
    sections.append("## Key figures\n\n" + _run_table(summary) + "\n\n" + _latency_table(summary))
    sections.append("## Verdict\n\n" + (_verdict_table(verdict) if verdict else "No verdict: the targets were not checked."))

    if plot_png:
        sections.append(f"## Latency distribution\n\n![latency histogram and CDF per metric]({png_data_uri(plot_png)})")
    else:
        sections.append("## Latency distribution\n\nNo plot: no request succeeded, so there is no latency to draw.")
    if records_location:
        sections.append(f"## Per-request records\n\nAll per-request records (Parquet): `{records_location}`")
    if notes:
        sections.append("## Notes\n\n" + "\n".join(f"- {note}" for note in notes))
    return "\n\n".join(sections) + "\n"


def _headline(model_type: str | None, verdict: Verdict | None) -> str:
    if verdict is None:
        outcome = "not verified"
    elif verdict.passed:
        outcome = "**PASS**: every target that is set is met"
    else:
        outcome = f"**FAIL**: {len(verdict.failed_checks)} check(s) failed"
    return f"Model type: **{model_type or 'unknown'}**. Verdict: {outcome}."


def _endpoints_table(endpoints: dict[str, bool]) -> str:
    if not endpoints:
        return "## Endpoints\n\nNo endpoint was probed."
    lines = [f"| `{path}` | {'yes' if supported else 'no'} |" for path, supported in endpoints.items()]
    return "## Endpoints\n\n| endpoint | served |\n|---|---|\n" + "\n".join(lines)


def _run_table(summary: dict[str, Any]) -> str:
    lines = [f"| {name} | {_format_figure(name, summary.get(name))} |" for name in RUN_FIGURES if name in summary]
    reasons = summary.get("failed_by_reason")
    if isinstance(reasons, dict) and reasons:
        lines.append("| failed by reason | " + ", ".join(f"{reason}: {count}" for reason, count in reasons.items()) + " |")
    return "| figure | value |\n|---|---|\n" + "\n".join(lines)


def _latency_table(summary: dict[str, Any]) -> str:
    rows = []
    for metric in LATENCY_METRICS:
        values = [summary.get(f"{statistic}_{metric}_ms") for statistic in STATISTICS]
        if any(f"{statistic}_{metric}_ms" in summary for statistic in STATISTICS):
            rows.append(f"| {metric} (ms) | " + " | ".join(_format(value) for value in values) + " |")
    if not rows:
        return "No latency figures in the summary."
    return "| metric | " + " | ".join(STATISTICS) + " |\n|---|" + "---|" * len(STATISTICS) + "\n" + "\n".join(rows)


def _verdict_table(verdict: Verdict) -> str:
    header = "| metric | statistic | measured | target | allowed | result |\n|---|---|---|---|---|---|"
    lines = []
    for check in verdict.checks:
        result = {"pass": "pass", "fail": "**FAIL**"}.get(check.status, check.status)
        values = [_format_figure(check.metric, value) for value in (check.measured, check.target, check.allowed)]
        lines.append(f"| `{check.metric}` | {check.statistic} | " + " | ".join(values) + f" | {result} |")
    failures = "".join(f"\n- {check.reason}" for check in verdict.failed_checks)
    return header + "\n" + "\n".join(lines) + ("\n\nFailed checks:" + failures if failures else "")


def _format_figure(name: str, value: Any) -> str:
    if name == "failure_rate" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.2%}"
    return _format(value)


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.4f}"
    return "n/a" if value is None else str(value)
