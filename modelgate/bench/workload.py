"""Seeded synthetic inputs of a target length in tokens."""

from __future__ import annotations

import random

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


def synthetic_texts(count: int, tokens: int, seed: int) -> list[str]:
    """Return `count` different texts of about `tokens` tokens each, the same for the same seed."""
    generator = random.Random(seed)
    return [" ".join(generator.choices(WORDS, k=max(1, tokens))) for _ in range(count)]
