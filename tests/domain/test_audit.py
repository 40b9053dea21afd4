"""The audit trail's mechanism (#21): what the session events record, who is the author, the hash chain, its
verification, the purge, the secrets kept out, and what it costs in SQL statements."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select, text

from app.domain import audit, lifecycle
from app.extensions import db
from app.jobs import JOBS, run_periodic_jobs
from app.models import AuditCheckpoint, AuditEntry, Role, User
from app.models.audit import SQLITE_REFUSE_UPDATE_TRIGGER
from tests.factories import make_offer, make_qualified_trainer, make_request, make_session_in_planning, make_user
from tests.helpers import count_queries


def entries(**where) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)))


def changes(entry: AuditEntry) -> dict:
    return json.loads(entry.changes)


def tamper(sql: str, **params) -> None:
    """Alters the trail behind the app's back (its trigger set aside first, as someone with the database's keys
    could)."""
    with db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
        connection.execute(text(sql), params)
        if postgres:
            connection.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_no_update"))
        else:
            connection.execute(text(SQLITE_REFUSE_UPDATE_TRIGGER))


def test_inserts_updates_and_deletes_are_recorded_with_before_and_after_in_the_same_transaction(app, clock):
    user = make_user(Role.REQUESTER, full_name="Marie Dupont")
    db.session.commit()
    [created] = entries(object_type="user_account", object_id=str(user.id))
    assert created.action == "create"
    assert changes(created)["full_name"] == [None, "Marie Dupont"]
    assert created.author_name == "Relais" and created.author_id is None  # outside any request: Relais

    db.session.refresh(user)  # a page changes what it loaded
    user.full_name = "Marie Martin"
    user.phone = "04 00 00 00 00"
    db.session.commit()
    update = entries(object_type="user_account", object_id=str(user.id))[-1]
    assert update.action == "update"
    assert changes(update)["full_name"] == ["Marie Dupont", "Marie Martin"]
    assert set(changes(update)) == {"full_name", "phone"}

    db.session.delete(user)
    db.session.commit()
    deleted = entries(object_type="user_account", object_id=str(user.id))[-1]
    assert deleted.action == "delete" and changes(deleted)["full_name"] == ["Marie Martin", None]


def test_a_rolled_back_transaction_or_savepoint_leaves_no_entry(app, clock):
    before = len(entries())
    make_user(Role.REQUESTER)
    db.session.rollback()
    assert len(entries()) == before
    kept = make_user(Role.REQUESTER)
    with db.session.begin_nested() as savepoint:
        make_user(Role.REQUESTER, full_name="Annulé")
        savepoint.rollback()
    db.session.commit()
    names = [changes(e).get("full_name", [None, None])[1] for e in entries(object_type="user_account")]
    assert kept.full_name in names and "Annulé" not in names


def test_the_lifecycle_s_conditional_update_is_recorded_with_the_row_and_its_status_before_and_after(app, clock):
    request = make_request(status="draft")
    db.session.commit()
    lifecycle.submit(db.session, request, request.created_by, clock.now())
    db.session.commit()
    [moved] = [e for e in entries(object_type="intervention_request", object_id=str(request.id))
               if e.action == "update" and "status" in changes(e)]
    assert changes(moved)["status"] == ["draft", "submitted"]


def test_a_bulk_statement_without_ids_records_the_rows_it_matched(app, clock):
    users = [make_user(Role.REQUESTER, phone="01") for _ in range(3)]
    db.session.commit()
    from sqlalchemy import update

    db.session.execute(update(User).where(User.phone == "01").values(phone="02")
                       .execution_options(synchronize_session=False))
    db.session.commit()
    changed = {e.object_id for e in entries(action="update", object_type="user_account")}
    assert changed == {str(u.id) for u in users}


def test_a_statement_on_a_row_keyed_by_two_columns_names_the_row_from_its_where(app, clock):
    """The autopilot's setting of a scope (département × force), updated by a statement: the journal names it."""
    from app.domain.autopilot import set_mode
    from app.models import AutopilotMode, Force

    coordinator = make_user(Role.COORDINATOR)
    set_mode(db.session, "69", Force.POLICE, AutopilotMode.AUTOMATIC, coordinator, clock.now())
    db.session.commit()
    written = entries(object_type="autopilot_setting")
    assert [(e.action, e.object_id) for e in written] == [("create", "69/police"), ("update", "69/police")]
    assert changes(written[1]) == {"inputs_read_through": [None, None], "planned_inputs": [None, None]}


def test_secrets_never_enter_the_trail(app, clock):
    assert all(audit.SECRET_COLUMN.search(name) for name in (
        "password_hash", "token_hash", "totp_secret", "password_encrypted", "secret", "code_hash"))
    assert not any(audit.SECRET_COLUMN.search(name) for name in ("full_name", "room", "status", "email"))
    user = make_user(Role.COORDINATOR, second_factor=True)
    db.session.commit()
    hashed = user.password_hash
    user.password_hash = "scrypt:nouveau-hash-tres-secret"
    db.session.commit()
    everything = " ".join(e.changes for e in entries())
    assert hashed not in everything and "nouveau-hash-tres-secret" not in everything
    assert user.totp_secret not in everything
    update = entries(object_type="user_account", action="update")[-1]
    assert changes(update)["password_hash"] == [audit.MASKED, audit.MASKED]


def test_the_author_comes_from_the_context_and_one_transaction_shares_one_key(app, clock):
    with audit.acting(audit.AuditContext(actor=audit.Actor(7, "Jeanne Coordinatrice"), address="203.0.113.9",
                                         token_id=12)):
        make_user(Role.REQUESTER)
        make_user(Role.REQUESTER)
        db.session.commit()
    first, second = entries(object_type="user_account")[-2:]
    assert (first.author_id, first.author_name, first.address, first.token_id) == (7, "Jeanne Coordinatrice",
                                                                                   "203.0.113.9", 12)
    assert first.transaction_key == second.transaction_key
    assert audit.current_context().who() == audit.RELAIS  # the block's end gives the context back


def test_a_job_s_author_is_relais(app, clock):
    offer = make_offer(make_session_in_planning(), make_qualified_trainer(), clock.now()).notices[0].assignment
    db.session.commit()
    clock.advance(timedelta(days=10))
    with audit.acting(audit.Actor(99, "Quelqu'un")):
        pass  # a context set and reset elsewhere leaves the jobs to Relais
    run_periodic_jobs(db.session, clock.now())
    expired = [e for e in entries(object_type="assignment", object_id=str(offer.id)) if e.action == "update"]
    assert expired and changes(expired[-1])["status"][1] == "expired"
    assert {e.author_name for e in entries() if e.at == clock.now()} == {"Relais"}


def test_reads_in_bulk_are_recorded(app, clock):
    with audit.acting(audit.Actor(3, "Admin")):
        audit.record_read(db.session, "roster", "Rhône", 42)
        db.session.commit()
    [read] = entries(action="read")
    assert read.object_type == "roster" and changes(read) == {"nombre": 42, "portée": "Rhône"}


def test_the_chain_verifies_and_names_the_entry_altered_in_the_database(app, clock, runner):
    for _ in range(3):
        make_user(Role.REQUESTER)
        db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    assert result.exit_code == 0 and f"chaîne intacte ({count} entrées)" in result.output
    victim = entries(object_type="user_account")[1]
    tamper("UPDATE audit_entry SET changes = :changes WHERE id = :id", changes='{"full_name":[null,"Autre"]}',
           id=victim.id)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"entrée {victim.id}" in result.output and "modifiée" in result.output


def test_a_deleted_entry_breaks_the_chain_at_the_next_one(app, clock):
    for _ in range(3):
        make_user(Role.REQUESTER)
        db.session.commit()
    ids = [e.id for e in entries()]
    tamper("DELETE FROM audit_entry WHERE id = :id", id=ids[1])
    verification = audit.verify(db.session, batch=1)  # across batches too
    assert verification.broken_id == ids[2] and "précédent" in verification.problem


def test_the_purge_keeps_the_chain_verifiable_and_is_a_job(app, clock):
    old = make_user(Role.REQUESTER)
    db.session.commit()
    clock.advance(timedelta(days=400))
    recent = make_user(Role.REQUESTER)
    db.session.commit()
    assert "purge-journal" in JOBS
    purged = JOBS["purge-journal"](db.session, clock.now())
    db.session.commit()
    assert purged >= 1 and not entries(object_id=str(old.id), object_type="user_account")
    assert entries(object_id=str(recent.id), object_type="user_account")
    assert db.session.scalar(select(AuditCheckpoint.purged_count)) == purged
    assert audit.verify(db.session).ok
    assert JOBS["purge-journal"](db.session, clock.now()) == 0  # again: nothing more


def test_the_trail_costs_a_few_statements_per_transaction_not_one_per_row(app, clock):
    users = [make_user(Role.REQUESTER) for _ in range(30)]
    db.session.commit()

    def statements(count: int) -> int:
        for user in users[:count]:
            user.phone = f"0{count}"
        with count_queries() as seen:
            db.session.commit()
        return len([s for s in seen if "audit_entry" in s or "pg_advisory" in s])

    assert statements(1) == statements(30) <= 3


def test_the_database_refuses_to_change_an_entry(app, clock):
    make_user(Role.REQUESTER)
    db.session.commit()
    import pytest
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="cannot be changed"):  # PostgreSQL's trigger, or SQLite's
        db.session.execute(text("UPDATE audit_entry SET author_name = 'X'"))
    db.session.rollback()

