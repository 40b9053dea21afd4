"""Migration a7e3c91f5b20 on the reports already saved (issue #18): a typed reason becomes « other », an empty
report is deleted with its topics and its session waits for a report again; nothing else moves. The rows are
written at the revision before, with placeholders in the columns the migration does not read."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, create_engine, insert, inspect, text

from app import create_app
from app.extensions import db
from tests.helpers import empty_database

BEFORE = "d41f7a2c9b10"
# Values the CHECK constraints of the enums accept; any other text column gets "x" (the département's code too).
ENUMS = {"status": "done", "force": "police", "kind": "college", "role": "trainer"}
UNIT_KIND = "ddpn"
MOMENT = datetime(2027, 1, 11, 8, 0)


def add_row(connection, table: str, **values) -> None:
    """A row with `values`, every other NOT NULL column without a default filled with a placeholder."""
    for column in inspect(connection).get_columns(table):
        name = column["name"]
        if name in values or column["nullable"] or column.get("default") is not None or column.get("autoincrement"):
            continue
        kind = str(column["type"]).upper()
        values[name] = (UNIT_KIND if (table, name) == ("unit", "kind") else ENUMS[name] if name in ENUMS
                        else 1 if "INT" in kind or "BOOL" in kind
                        else MOMENT if "DATETIME" in kind or "TIMESTAMP" in kind else MOMENT.date() if "DATE" in kind
                        else MOMENT.time() if "TIME" in kind
                        else 1.0 if any(word in kind for word in ("FLOAT", "DOUBLE", "REAL", "NUMERIC"))
                        else "x")
    connection.execute(insert(Table(table, MetaData(), autoload_with=connection)).values(**values))


def test_old_reports_are_kept_named_or_forgotten(database_url, tmp_path):
    with empty_database(database_url, tmp_path, "reports_migration") as url:
        _check_the_migration(url)


def _check_the_migration(url: str) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision=BEFORE)
        db.engine.dispose()
    raw = create_engine(url)
    with raw.connect() as connection:
        # What the rows refer to: the migration checks every reference after rebuilding the table.
        add_row(connection, "departement", code="x")
        add_row(connection, "user_account", id=1, email="formateur@exemple.fr")
        add_row(connection, "establishment", id=1)
        add_row(connection, "unit", id=1)
        add_row(connection, "trainer", id=1, user_id=1, unit_id=1)
        add_row(connection, "topic", code="cannabis")
        add_row(connection, "intervention_request", id=1, status="done")
        for session_id in (1, 2, 3):
            add_row(connection, "intervention", id=session_id, request_id=1, status="done", people_reached=20,
                   starts_at=MOMENT, ends_at=MOMENT + timedelta(hours=1), ical_uid=f"s{session_id}@relais")
        add_row(connection, "session_report", id=1, intervention_id=1, trainer_id=1, held=1, people_present=20)
        add_row(connection, "session_report", id=2, intervention_id=2, trainer_id=1, held=0,
               not_held_reason="Collège fermé (neige)")
        add_row(connection, "session_report", id=3, intervention_id=3, trainer_id=1, held=0)  # the empty Enter
        connection.execute(text("UPDATE intervention SET status = 'not_held', people_reached = NULL WHERE id > 1"))
        add_row(connection, "report_topic", report_id=1, topic_code="cannabis")
        add_row(connection, "report_topic", report_id=3, topic_code="cannabis")
        connection.commit()
    raw.dispose()

    with app.app_context():
        upgrade()
        db.engine.dispose()
    with create_engine(url).connect() as connection:
        reports = connection.execute(text("SELECT id, held, not_held_code, not_held_reason FROM session_report "
                                          "ORDER BY id")).all()
        assert [tuple(r) for r in reports] == [(1, 1, None, None), (2, 0, "other", "Collège fermé (neige)")]
        # The table rebuild kept the topics of the reports kept (no cascade from its DROP).
        assert connection.execute(text("SELECT report_id FROM report_topic")).scalars().all() == [1]
        sessions = connection.execute(text("SELECT id, status, people_reached FROM intervention ORDER BY id")).all()
        assert [tuple(s) for s in sessions] == [(1, "done", 20), (2, "not_held", None), (3, "confirmed", None)]
        assert connection.execute(text("SELECT status FROM intervention_request")).scalar() == "confirmed"
