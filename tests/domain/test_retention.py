"""The retention periods applied by `flask tick` (issue #21, RGPD), with the app's frozen clock: before the period
nothing happens, after it the data is anonymised (or the account warned, then deactivated), a second run does
nothing more, and the statistics stay exactly what they were."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

import app.jobs as jobs
from app.domain import retention
from app.domain.policies import REQUESTS, SESSIONS, TRAINERS
from app.domain.retention import Period
from app.domain.statistics import Period as StatisticsPeriod
from app.domain.statistics import build_dashboard
from app.extensions import db
from app.models import (
    Feedback,
    InactivityWarning,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    OutgoingMessage,
    RetentionSetting,
    Role,
    Trainer,
    User,
)
from tests.factories import make_assigned_session, make_establishment, make_trainer, make_user

OLD = datetime(2022, 3, 10, 8, 0, tzinfo=UTC)  # more than 3 years before the clock's 30 November 2026
RECENT = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def given_session(starts_at: datetime, comment: str = "Merci à Mme Dupont, très clair"):
    """A session given at that moment, 24 people reached, with the establishment's feedback and its comment."""
    trainer = make_trainer()
    session_ = make_assigned_session(trainer, starts_at)
    session_.status = InterventionStatus.DONE
    session_.people_reached = 24
    request = session_.request
    request.contact_name, request.contact_email = "Claire Martin", "claire.martin@exemple.fr"
    request.notes = "Demander Mme Martin à l'accueil, 06 11 22 33 44"
    request.submitted_at = starts_at - timedelta(days=40)
    db.session.add(Feedback(intervention_id=session_.id, author_id=request.created_by_id, satisfaction=4,
                            comment=comment))
    db.session.flush()
    return session_


def test_periods_are_data_with_the_documented_defaults(app):
    assert retention.period(db.session, "request_contacts") == Period(3, "years")
    assert retention.period(db.session, "unused_accounts") == Period(24, "months")
    assert retention.period(db.session, "audit_trail") == Period(12, "months")
    assert retention.save_periods(db.session, {"request_contacts": 5}, None, datetime(2026, 1, 1, tzinfo=UTC)) == 1
    assert db.session.get(RetentionSetting, "request_contacts").value == 5
    assert retention.period(db.session, "request_contacts") == Period(5, "years")
    with pytest.raises(ValueError):
        retention.period(db.session, "nothing")


def test_period_arithmetic_keeps_to_the_calendar():
    assert Period(1, "years").before(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert Period(3, "months").before(datetime(2027, 5, 31, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert Period(30, "days").after(datetime(2027, 1, 1, tzinfo=UTC)) == datetime(2027, 1, 31, tzinfo=UTC)
    assert Period(24, "months").after(datetime(2025, 1, 31, tzinfo=UTC)) == datetime(2027, 1, 31, tzinfo=UTC)


def test_request_contacts_and_comments_go_after_the_period_once(app, clock):
    old, recent = given_session(OLD), given_session(RECENT)
    db.session.commit()
    # Just before the period is over for the old one: nothing.
    clock.freeze(Period(3, "years").after(old.ends_at) - timedelta(hours=1))
    assert jobs.anonymise_request_contacts(db.session, clock.now()) == 0
    assert jobs.anonymise_feedback_comments(db.session, clock.now()) == 0
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert jobs.anonymise_request_contacts(db.session, clock.now()) == 1
    assert jobs.anonymise_feedback_comments(db.session, clock.now()) == 1
    db.session.commit()
    db.session.expire_all()
    request = db.session.get(InterventionRequest, old.request_id)
    assert (request.contact_name, request.contact_phone, request.contact_email, request.notes) == (
        retention.ANONYMISED_CONTACT, "", None, None)
    assert old.feedback.comment is None and old.feedback.satisfaction == 4
    kept = db.session.get(InterventionRequest, recent.request_id)
    assert kept.contact_name == "Claire Martin" and kept.notes and recent.feedback.comment
    # Twice is the same.
    assert jobs.anonymise_request_contacts(db.session, clock.now()) == 0
    assert jobs.anonymise_feedback_comments(db.session, clock.now()) == 0


def test_the_statistics_are_the_same_after_anonymisation(app, clock):
    for moment in (OLD, OLD + timedelta(days=3), RECENT):
        given_session(moment)
    leaver = make_trainer()
    session_ = make_assigned_session(leaver, OLD + timedelta(days=7))
    session_.status, session_.people_reached = InterventionStatus.DONE, 30
    retention.mark_departed(db.session, leaver, date(2024, 6, 30))
    app.config["RELAIS_ARCHIVE_DIR"] = str(app.config["RELAIS_INSTANCE_TMP"])
    admin = make_user(Role.ADMIN)
    db.session.commit()

    def tables():
        db.session.expire_all()
        result = []
        for period in (StatisticsPeriod(date(2021, 9, 1), date(2022, 8, 31)),
                       StatisticsPeriod(date(2024, 9, 1), date(2025, 8, 31))):
            board = build_dashboard(db.session, session_scope=SESSIONS.rows(admin), request_scope=REQUESTS.rows(admin),
                                    trainer_scope=TRAINERS.rows(admin), period=period)
            result.append((board.summary, [(t.key, t.rows) for t in board.tables]))
        return result

    before = tables()
    assert before[0][0]["given"] == 3 and before[0][0]["people"] == 78
    done = {name: jobs.JOBS[name](db.session, clock.now()) for name in jobs.RETENTION_JOBS}
    db.session.commit()
    assert done["anonymisation-contacts-demandes"] == 3 and done["archivage-formateurs-partis"] == 1
    assert tables() == before


def test_an_unused_account_is_warned_then_deactivated_unless_used_again(app, clock):
    now = clock.now()
    long_ago = now - timedelta(days=800)
    forgotten = make_user(Role.REQUESTER, last_login_at=long_ago)
    comes_back = make_user(Role.TRAINER, last_login_at=long_ago)
    in_use = make_user(Role.REQUESTER, last_login_at=now - timedelta(days=30))
    admin = make_user(Role.ADMIN, last_login_at=long_ago)
    for person in (forgotten, comes_back, in_use, admin):
        person.activated_at = long_ago - timedelta(days=1)
    in_use.activated_at = long_ago
    db.session.commit()
    # 23 months after their last log-in: not yet.
    clock.freeze(long_ago + timedelta(days=700))
    assert jobs.warn_unused_accounts(db.session, clock.now()) == 0
    clock.freeze(now)
    assert jobs.warn_unused_accounts(db.session, clock.now()) == 2
    assert jobs.warn_unused_accounts(db.session, clock.now()) == 0, "warned once"
    db.session.commit()
    warnings = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.dedup_key.like("inactivity:%"))).all()
    assert sorted(m.recipient for m in warnings) == sorted([forgotten.email, comes_back.email])
    assert "sera désactivé le" in warnings[0].body_text
    # Within the warning period: still active.
    assert jobs.deactivate_unused_accounts(db.session, clock.now() + timedelta(days=29)) == 0
    # One of them signs in again.
    comes_back.last_login_at = now + timedelta(days=3)
    db.session.commit()
    clock.freeze(now + timedelta(days=31))
    assert jobs.deactivate_unused_accounts(db.session, clock.now()) == 1
    assert jobs.deactivate_unused_accounts(db.session, clock.now()) == 0, "twice is the same"
    db.session.commit()
    db.session.expire_all()
    assert not db.session.get(User, forgotten.id).active
    assert db.session.get(User, comes_back.id).active and db.session.get(User, admin.id).active
    assert db.session.get(User, in_use.id).active
    warning = db.session.scalar(select(InactivityWarning).where(InactivityWarning.user_id == forgotten.id))
    assert warning.deactivated_at == clock.now()


def test_a_departed_trainer_is_archived_then_anonymised_after_the_period(app, clock, tmp_path):
    app.config["RELAIS_ARCHIVE_DIR"] = str(tmp_path)
    leaver = make_trainer()
    given = make_assigned_session(leaver, OLD)
    recent_leaver = make_trainer()
    name, email = leaver.user.full_name, leaver.user.email
    retention.mark_departed(db.session, leaver, date(2025, 10, 31))
    retention.mark_departed(db.session, recent_leaver, date(2026, 6, 1))
    db.session.commit()
    clock.freeze(datetime(2026, 10, 30, 9, 0, tzinfo=UTC))  # 12 months minus a day
    assert jobs.archive_departed_trainers(db.session, clock.now()) == 0
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert jobs.archive_departed_trainers(db.session, clock.now()) == 1
    assert jobs.archive_departed_trainers(db.session, clock.now()) == 0, "twice is the same"
    db.session.commit()
    [archive] = (tmp_path / "formateurs").glob("*.json")
    record = json.loads(archive.read_text(encoding="utf-8"))
    assert record["formateur"]["nom"] == name and record["formateur"]["adresse_electronique"] == email
    assert [s["id"] for s in record["interventions"]] == [given.id]
    db.session.expire_all()
    trainer = db.session.get(Trainer, leaver.id)
    assert trainer.anonymised_at == clock.now() and trainer.matricule.startswith("ANONYME-")
    assert trainer.user.full_name == f"Formateur parti n° {trainer.id}" and name not in trainer.user.email
    assert trainer.user.password_hash is None and not trainer.user.active
    assert [a.trainer_id for a in db.session.get(Intervention, given.id).assignments] == [leaver.id], \
        "their sessions stay"
    assert db.session.get(Trainer, recent_leaver.id).anonymised_at is None
    # Claimed by a conditional UPDATE: a second worker gets nothing.
    assert retention.archive_and_anonymise_trainer(db.session, leaver.id, tmp_path, clock.now()) is None


def test_the_demo_shows_requests_already_anonymised_and_a_warned_account(app, clock):
    schools = [make_establishment() for _ in range(3)]
    for school in schools:
        make_user(Role.REQUESTER, establishment_id=school.id)
    retention.build_demo_history(db.session, schools, clock.now())
    db.session.commit()
    old = db.session.scalars(select(InterventionRequest)).all()
    assert len(old) == 2 and {r.contact_name for r in old} == {retention.ANONYMISED_CONTACT}
    assert all(r.notes is None and r.interventions[0].people_reached == 26 for r in old)
    assert all(r.interventions[0].feedback.comment is None for r in old)
    [warning] = db.session.scalars(select(InactivityWarning)).all()
    assert warning.user_id == schools[2].members[0].id and warning.deactivated_at is None
    # Nothing more for the jobs to do on them.
    assert jobs.anonymise_request_contacts(db.session, clock.now()) == 0
