"""Per-request records as Parquet: the full table behind the capped sample shown in artifacts."""

from __future__ import annotations

import io

import pandas as pd


def records_to_parquet(requests: pd.DataFrame) -> bytes:
    """Return the per-request records as Parquet bytes (pyarrow, zstd compression).

    Nullable columns (such as prompt token counts) stay nullable, so a missing value is not written as 0.
    """
    buffer = io.BytesIO()
    requests.to_parquet(buffer, engine="pyarrow", compression="zstd", index=False)
    return buffer.getvalue()


def read_records(path: str) -> pd.DataFrame:
    """Read per-request records written by `records_to_parquet`."""
    return pd.read_parquet(path, engine="pyarrow")
