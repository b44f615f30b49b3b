"""Inputs of a target length: seeded synthetic text, or texts read from a JSONL or CSV dataset."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from modelgate.errors import InvalidInputError

# Common English words that WordPiece and BPE vocabularies hold as one token each, so the word count
# is a close estimate of the token count. The server's usage figures report the exact count.
WORDS = (
    "the of and to in is was for on that with as by at from his her they be this have are not but had "
    "which one all were we when there can an your what out if so about up who will more no time would "
    "other into has her two like him see time could first been than its now people made over did down "
    "only way find use may water long little very after words called just where most know get through "
    "back much before go good new write our used me man too any day same right look think also around "
    "another came come work three word must because does part even place well such here take why help "
    "put different away again off went old number great tell men say small every found still between "
    "name should home big give air line set own under read last never us left end along while might next "
    "sound below saw something thought both few those always show large often together asked house world "
    "going want school important until form food keep children feet land side without boy once animal life"
).split()

TEXT_COLUMNS = ("text", "prompt", "input")


def synthetic_text(index: int, tokens: int, seed: int) -> str:
    """Return text number `index` of about `tokens` tokens; the same index and seed give the same text."""
    generator = random.Random(seed * 1_000_003 + index)
    return " ".join(generator.choices(WORDS, k=max(1, tokens)))


def synthetic_texts(count: int, tokens: int, seed: int) -> list[str]:
    """Return `count` different texts of about `tokens` tokens each, the same for the same seed."""
    return [synthetic_text(index, tokens, seed) for index in range(count)]


def load_dataset(path: str | Path, column: str | None = None) -> list[str]:
    """Read the text column of a JSONL or CSV file.

    Args:
        path: a `.jsonl` file (one JSON object per line) or a `.csv` file with a header row.
        column: the text column; default the first of text, prompt, input that the file has.

    Raises:
        InvalidInputError: the file is missing, has another extension, has no such column or no rows.
    """
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(f"dataset {path} not found; pass an existing .jsonl or .csv file")

    if source.suffix == ".jsonl":
        rows = _read_jsonl(source)
    elif source.suffix == ".csv":
        with source.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    else:
        raise InvalidInputError(f"dataset {path} has extension {source.suffix!r}; use .jsonl or .csv")

    if not rows:
        raise InvalidInputError(f"dataset {path} has no rows")
    name = column or next((candidate for candidate in TEXT_COLUMNS if candidate in rows[0]), None)
    if name is None or name not in rows[0]:
        wanted = column or " or ".join(TEXT_COLUMNS)
        raise InvalidInputError(f"dataset {path} has no column {wanted}; its columns are {sorted(rows[0])}; pass --dataset-column")

    texts = [str(row[name]) for row in rows if row.get(name) not in (None, "")]
    if not texts:
        raise InvalidInputError(f"dataset {path} has no non-empty value in column {name!r}")
    return texts


def _read_jsonl(source: Path) -> list[dict]:
    rows = []
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise InvalidInputError(f"dataset {source} line {number} is not valid JSON: {error}") from error
            if not isinstance(row, dict):
                raise InvalidInputError(f"dataset {source} line {number} is not a JSON object")
            rows.append(row)
    return rows


class Inputs:
    """Input text by request index: dataset rows in order (repeated when the run is longer), else synthetic."""

    def __init__(self, tokens: int, seed: int, dataset: str | None = None, column: str | None = None) -> None:
        self.tokens = tokens
        self.words = tokens
        self.seed = seed
        self.texts = load_dataset(dataset, column) if dataset else None

    def calibrate(self, tokens_per_word: float) -> None:
        """Size synthetic texts for the server's tokenizer, which makes `tokens_per_word` tokens per word."""
        if tokens_per_word > 0:
            self.words = max(1, round(self.tokens / tokens_per_word))

    def text(self, index: int) -> str:
        """Return the input of request `index`."""
        if self.texts is not None:
            return self.texts[index % len(self.texts)]
        return synthetic_text(index, self.words, self.seed)
