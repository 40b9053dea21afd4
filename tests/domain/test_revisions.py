"""The statistics' revision: raised once by every transaction that changes what the figures count, and only then."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from app import create_app
from app.domain.mail import queue_email
from app.domain.revisions import current_revision
from app.extensions import db
from app.models import Intervention, InterventionStatus, User
from tests.factories import make_assigned_session, make_trainer, make_user

NINE = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


def test_a_unit_of_work_raises_it_once_per_transaction(app):
    before = current_revision(db.session)
    trainer = make_trainer()
    session = make_assigned_session(trainer, NINE)  # several flushes, one transaction
    session.group_label = "Classe de 3e B"
    db.session.flush()
    db.session.commit()
    assert current_revision(db.session) == before + 1
    # Pending changes are noted even when only the commit flushes them.
    session.group_label = "Classe de 3e C"
    db.session.commit()
    assert current_revision(db.session) == before + 2


def test_a_bulk_statement_raises_it(app):
    session = make_assigned_session(make_trainer(), NINE)
    db.session.commit()
    before = current_revision(db.session)
    db.session.execute(update(Intervention).where(Intervention.id == session.id)
                       .values(status=InterventionStatus.CANCELLED).execution_options(synchronize_session=False))
    db.session.commit()
    assert current_revision(db.session) == before + 1


def test_changes_the_figures_never_read_leave_it(app):
    user = make_user()
    db.session.commit()
    before = current_revision(db.session)
    queue_email(db.session, recipient=user.email, subject="Objet", body_text="Texte", dedup_key="essai", now=NINE)
    db.session.get(User, user.id).last_login_at = NINE
    db.session.commit()
    assert current_revision(db.session) == before
    make_trainer()
    db.session.rollback()
    db.session.commit()
    assert current_revision(db.session) == before, "a rolled back change counts for nothing"


def test_another_process_sees_the_revision_committed(app, database_url):
    """Two workers share nothing but the database: a change committed by one is seen by the other."""
    before = current_revision(db.session)
    db.session.commit()  # end the read transaction (PostgreSQL and SQLite snapshots)
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with other.app_context():
        make_trainer()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert current_revision(db.session) == before + 1


def test_a_coordinator_looking_at_their_home_leaves_the_dashboards_cached(app, client):
    """The autopilot's note of a visit (#20) and the audit trail's entries (#21) are no figure of the statistics."""
    from app.models import Force
    from tests.factories import make_coordinator
    from tests.helpers import login

    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    before = current_revision(db.session)
    assert client.get("/accueil").status_code == 200
    assert current_revision(db.session) == before
