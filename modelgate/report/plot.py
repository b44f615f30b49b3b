"""Latency plot: a histogram and an empirical CDF for each latency measured per request, as PNG."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# Per-request latency columns, in the order they are drawn, with their axis labels.
LATENCY_COLUMNS = {
    "e2el_ms": "E2E latency (ms)",
    "ttft_ms": "TTFT (ms)",
    "tpot_ms": "TPOT (ms)",
    "itl_ms": "ITL (ms)",
}
PERCENTILES = (50, 90, 99)


def measured_latencies(requests: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return the finite values of each latency column over the successful requests; empty columns are left out."""
    frame = requests[requests["success"].astype(bool)] if "success" in requests.columns else requests
    columns = {}
    for column in LATENCY_COLUMNS:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            columns[column] = values
    return columns


def latency_plot_png(requests: pd.DataFrame, title: str, limits: dict[str, float] | None = None, dpi: int = 80) -> bytes | None:
    """Draw one row per measured latency (histogram left, CDF right) and return the PNG, or None with no data.

    Args:
        requests: per-request records with a `success` column and latency columns in ms.
        title: figure title, such as the served model name.
        limits: allowed value per latency column; drawn as a red line so a miss is visible.
        dpi: resolution; 80 keeps a two-row figure under about 60 KB.
    """
    columns = measured_latencies(requests)
    if not columns:
        return None

    limits = limits or {}
    figure = Figure(figsize=(10, 3.2 * len(columns)), dpi=dpi, layout="constrained")
    axes = figure.subplots(len(columns), 2, squeeze=False)
    figure.suptitle(f"{title}: {len(next(iter(columns.values())))} successful requests")

    for row, (column, values) in enumerate(columns.items()):
        histogram, cdf = axes[row]
        label = LATENCY_COLUMNS[column]
        histogram.hist(values, bins=min(50, max(10, values.size // 10)), color="#4c72b0")
        histogram.set_xlabel(label)
        histogram.set_ylabel("requests")

        ordered = np.sort(values)
        cdf.step(ordered, np.arange(1, ordered.size + 1) / ordered.size, where="post", color="#4c72b0")
        cdf.set_xlabel(label)
        cdf.set_ylabel("share of requests")
        cdf.set_ylim(0, 1.02)
        cdf.grid(alpha=0.3)

        for percentile in PERCENTILES:
            value = float(np.percentile(values, percentile))
            for axis in (histogram, cdf):
                axis.axvline(value, color="#555555", linestyle=":", linewidth=1)
            cdf.annotate(f"p{percentile} {value:.1f}", (value, percentile / 100), fontsize=8, xytext=(4, -10), textcoords="offset points")

        if column in limits:
            for axis in (histogram, cdf):
                axis.axvline(limits[column], color="#c44e52", linewidth=1.5, label=f"allowed {limits[column]:.1f}")
            cdf.legend(loc="lower right", fontsize=8)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
