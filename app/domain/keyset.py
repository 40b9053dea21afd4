"""Keyset pagination, the one way lists that grow with use are cut into pages (the roster, the queue, the users,
the reports, the trainer's offers, the requester's requests, the outbox).

A page is read with `LIMIT size + 1` from the row after the key of the last one shown (`apres` in the address),
never with an OFFSET: a deep page costs what the first one does. The extra row only says whether a next page
exists; the key of the next page is the id of the last row shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Row = TypeVar("Row")


def cut(found: Sequence[Row], limit: int, key: Callable[[Row], int]) -> tuple[list[Row], int | None]:
    """The page among `found` (read with `limit + 1`), and the key of the next page (None: this is the last)."""
    shown = list(found[:limit])
    return shown, (key(shown[-1]) if len(found) > limit and shown else None)
