"""Two transactions appending to the audit trail at once (#21): on PostgreSQL the chain's lock makes them take
turns (SQLite serialises writers itself), and the chain stays one (no fork: every entry follows exactly one
other)."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.domain import audit
from app.extensions import db
from app.models import AuditEntry, Role, User


def test_concurrent_writers_produce_one_valid_chain(app, clock):
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with app.app_context():
                for round_ in range(5):
                    barrier.wait() if round_ == 0 else None
                    db.session.add(User(email=f"ecrivain{number}-{round_}@exemple.fr", full_name=f"Écrivain {number}",
                                        role=Role.REQUESTER))
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    db.session.expire_all()
    rows = db.session.execute(select(AuditEntry.previous_hash, AuditEntry.object_type)).all()
    assert len([row for row in rows if row.object_type == "user_account"]) == 20
    assert len({row.previous_hash for row in rows}) == len(rows)  # no two entries follow the same one
    assert audit.verify(db.session).ok
