"""Per-request records held in growable columnar numpy arrays while the load runs.

A row costs about 60 bytes (float32 latencies, small integer codes for reasons and token sources), so a
million requests fit in well under 100 MB; the per-gap inter-token samples live in a separate
float32 buffer. Failure reasons are stored as codes into `reasons`, so no string is kept per row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelgate.errors import InvalidInputError

# Column name -> (dtype, fill value). Latencies in ms as float32 keep 0.01 ms resolution below 100 s.
COLUMNS: dict[str, tuple[str, Any]] = {
    "scheduled_s": ("float64", np.nan),
    "start_s": ("float64", np.nan),
    "send_delay_ms": ("float32", np.nan),
    "ttft_ms": ("float32", np.nan),
    "ttfct_ms": ("float32", np.nan),
    "e2el_ms": ("float32", np.nan),
    "tpot_ms": ("float32", np.nan),
    "prompt_tokens": ("int32", -1),
    "output_tokens": ("int32", -1),
    "chunks": ("int32", 0),
    "status_code": ("int16", 0),
    "success": ("bool", False),
    "reason_code": ("int16", -1),
    "token_source_code": ("int8", -1),
}

# Sources of a request's output token count, best first.
TOKEN_SOURCES = ("usage_per_chunk", "usage", "tokenize", "chunks")


class FloatBuffer:
    """An append-only float32 buffer that grows by doubling, for samples of unknown count."""

    def __init__(self, capacity: int = 4096) -> None:
        self._data = np.empty(capacity, dtype=np.float32)
        self._size = 0

    def extend(self, values: list[float]) -> None:
        """Append `values`."""
        needed = self._size + len(values)
        if needed > self._data.size:
            grown = np.empty(max(needed, self._data.size * 2), dtype=np.float32)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : needed] = values
        self._size = needed

    def values(self) -> np.ndarray:
        """Return a view of the samples appended so far."""
        return self._data[: self._size]


@dataclass
class RequestRecords:
    """One row per measured request, in columns that grow by doubling.

    Rows are addressed by request index, which is the order requests were scheduled in.
    """

    capacity: int = 1024
    columns: dict[str, np.ndarray] = field(init=False)
    reasons: list[str] = field(default_factory=list)
    size: int = 0

    def __post_init__(self) -> None:
        self.columns = {name: np.full(self.capacity, fill, dtype=dtype) for name, (dtype, fill) in COLUMNS.items()}
        self._reason_codes: dict[str, int] = {}
        self.itl_ms = FloatBuffer()
        self.chunk_itl_ms = FloatBuffer()
        self.first_errors: list[str] = []

    def add_row(self) -> int:
        """Reserve the next row and return its index."""
        index = self.size
        if index >= self.capacity:
            self._grow(max(self.capacity * 2, 1024))
        self.size += 1
        return index

    def _grow(self, capacity: int) -> None:
        for name, (dtype, fill) in COLUMNS.items():
            grown = np.full(capacity, fill, dtype=dtype)
            grown[: self.capacity] = self.columns[name]
            self.columns[name] = grown
        self.capacity = capacity

    def reason_code(self, reason: str) -> int:
        """Return the code of a failure reason, adding it to `reasons` the first time."""
        code = self._reason_codes.get(reason)
        if code is None:
            code = self._reason_codes[reason] = len(self.reasons)
            self.reasons.append(reason)
        return code

    def fail(self, index: int, reason: str, detail: str | None = None, keep_errors: int = 10) -> None:
        """Mark row `index` failed with `reason`; keep the first `keep_errors` details for the summary."""
        self.columns["success"][index] = False
        self.columns["reason_code"][index] = self.reason_code(reason)
        if detail is not None and len(self.first_errors) < keep_errors:
            self.first_errors.append(f"request {index}: {reason}: {detail}")

    def column(self, name: str) -> np.ndarray:
        """Return a view of column `name` over the rows in use."""
        return self.columns[name][: self.size]

    def failure_counts(self) -> dict[str, int]:
        """Return the number of failed requests per reason."""
        codes = self.column("reason_code")
        counts = Counter(codes[codes >= 0].tolist())
        return {self.reasons[code]: count for code, count in sorted(counts.items())}

    def token_source_counts(self) -> dict[str, int]:
        """Return how many successful requests took their output token count from each source."""
        codes = self.column("token_source_code")[self.column("success")]
        counts = Counter(codes[codes >= 0].tolist())
        return {TOKEN_SOURCES[code]: count for code, count in sorted(counts.items())}

    def to_frame(self) -> pd.DataFrame:
        """Return the rows as a DataFrame; reasons and token sources become categoricals, -1 counts <NA>."""
        frame = pd.DataFrame({"request": np.arange(self.size)})
        for name in COLUMNS:
            values = self.column(name)
            if name == "reason_code":
                frame["error"] = pd.Categorical.from_codes(values, categories=self.reasons or ["none"]) if self.reasons else None
            elif name == "token_source_code":
                frame["token_source"] = pd.Categorical.from_codes(values, categories=TOKEN_SOURCES)
            elif name in ("prompt_tokens", "output_tokens"):
                frame[name] = pd.array(np.where(values < 0, 0, values), dtype="Int32")
                frame.loc[values < 0, name] = pd.NA
            else:
                frame[name] = values.copy()
        return frame


def check_parquet_path(path: str | Path) -> Path:
    """Return `path` as a Path when a Parquet file can be written there.

    Raises:
        InvalidInputError: the path does not end in .parquet, or its folder does not exist.
    """
    target = Path(path)
    if target.suffix != ".parquet":
        raise InvalidInputError(f"requests file {path} must end in .parquet")
    if not target.parent.exists():
        raise InvalidInputError(f"folder {target.parent} of requests file {path} does not exist; create it first")
    return target


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the per-request table to a Parquet file and return its path.

    Raises:
        InvalidInputError: the path does not end in .parquet, or its folder does not exist.
    """
    target = check_parquet_path(path)
    frame.to_parquet(target, index=False)
    return target
