"""Summary statistics with vLLM's metric names (`mean_e2el_ms`, `p99_ttft_ms`, ...)."""

from __future__ import annotations

import numpy as np

STATISTICS = ("mean", "median", "std", "p90", "p99")


def summarize(name: str, values_ms: np.ndarray) -> dict[str, float | None]:
    """Return mean, median, std, p90 and p99 of `values_ms` as `<stat>_<name>_ms`.

    With no values every statistic is None, so a metric that could not be measured is never
    reported as 0 ms.
    """
    values = np.asarray(values_ms, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {f"{stat}_{name}_ms": None for stat in STATISTICS}

    return {
        f"mean_{name}_ms": float(np.mean(values)),
        f"median_{name}_ms": float(np.median(values)),
        f"std_{name}_ms": float(np.std(values)),
        f"p90_{name}_ms": float(np.percentile(values, 90)),
        f"p99_{name}_ms": float(np.percentile(values, 99)),
    }
