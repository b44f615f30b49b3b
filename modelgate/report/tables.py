"""Tables as lists of JSON-native rows, the form Prefect table artifacts store."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd


def frame_to_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Convert a DataFrame to JSON-native rows: NaN and <NA> become null, timestamps ISO strings."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the summary as metric/value rows; floats are rounded to 4 decimals, nested values become JSON text."""
    rows = []
    for metric, value in summary.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        elif isinstance(value, (np.integer, np.floating, np.bool_)):
            value = value.item()
        if isinstance(value, float):
            value = round(value, 4) if np.isfinite(value) else None
        rows.append({"metric": metric, "value": value})
    return rows


def sample_requests(requests: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """Return at most `max_rows` requests spread evenly over the run, so the sample covers start to end.

    Every failed request is kept while they fit, because failures are what a reader looks for.
    """
    if len(requests) <= max_rows:
        return requests

    failed = requests[~requests["success"].astype(bool)] if "success" in requests.columns else requests.iloc[0:0]
    failed = failed.head(max_rows // 2)
    remaining = max_rows - len(failed)
    spread = requests.iloc[np.linspace(0, len(requests) - 1, remaining).round().astype(int)]
    sample = pd.concat([spread, failed])
    return sample[~sample.index.duplicated()].sort_index()
