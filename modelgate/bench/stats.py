"""Summary statistics with vLLM's metric names (`mean_e2el_ms`, `p99_ttft_ms`, ...)."""

from __future__ import annotations

import numpy as np

STATISTICS = ("mean", "median", "std", "p90", "p99")


def summarize(name: str, values: np.ndarray, unit: str = "ms") -> dict[str, float | None]:
    """Return mean, median, std, p90 and p99 of `values` as `<stat>_<name>_<unit>`.

    NaN values are left out. With no values every statistic is None, so a metric that could not be
    measured is never reported as 0. Percentiles use numpy's default linear interpolation.
    """
    suffix = f"_{unit}" if unit else ""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {f"{stat}_{name}{suffix}": None for stat in STATISTICS}

    return {
        f"mean_{name}{suffix}": float(np.mean(values)),
        f"median_{name}{suffix}": float(np.median(values)),
        f"std_{name}{suffix}": float(np.std(values)),
        f"p90_{name}{suffix}": float(np.percentile(values, 90)),
        f"p99_{name}{suffix}": float(np.percentile(values, 99)),
    }
