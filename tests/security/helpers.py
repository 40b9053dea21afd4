"""What the security suite's tests share: the world's shape, a snapshot of the database, hostile text."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Role, User

# Markup, a link, a script and an attribute break-out, short enough for every text column.
HOSTILE = '<a href="https://evil.example/x">Reconnectez</a><img src="https://evil.example/p"><script>1</script>"onmouseover="x'

# Tables a request may write while doing nothing a person asked for (the log-in's own bookkeeping).
UNWATCHED_TABLES = {"login_session"}


@dataclass
class World:
    people: dict[Role, User]
    theirs: dict[str, int]  # URL argument → an id of the other territory
    ours: dict[str, int] = field(default_factory=dict)  # URL argument → an id the person may use (else theirs)
    # URL argument → every id of the person's side, one per state a page shows differently (for the form fuzz).
    ours_all: dict[str, list[int]] = field(default_factory=dict)
    newcomer: User | None = None  # a requester without an establishment yet


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table a person's action could write, to compare before and after."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name in UNWATCHED_TABLES:
            continue
        rows[table.name] = [tuple(row) for row in db.session.execute(
            select(table).order_by(*table.primary_key.columns))]
    return rows
