"""Reports after sessions, and the reminders `tick` sends once each, over real SMTP with a moving clock."""

from __future__ import annotations

import html as html_module
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain import reports
from app.domain.mail import SmtpTransport, deliver_pending
from app.domain.refusals import Refused
from app.extensions import db
from app.jobs import run_periodic_jobs
from app.models import InterventionStatus, OutgoingMessage, RequestStatus, Role, SessionReport
from tests.factories import make_confirmed_session, make_qualified_trainer, make_session_in_planning, make_user
from tests.helpers import login, post_form, switch_to

SENDER = "Relais <no-reply@relais.localhost>"
FORM = {"held": "oui", "people_present": "26", "pupils": "24", "staff": "2", "parents": "",
        "topics": ["cannabis"], "remarks": "Classe très participative"}


def text(response) -> str:
    return html_module.unescape(response.get_data(as_text=True))


def after_session(clock, intervention, hours: int = 2) -> None:
    clock.freeze(intervention.ends_at + timedelta(hours=hours))


def tick(app) -> dict[str, int]:
    return run_periodic_jobs(db.session, app_clock_now())


def app_clock_now():
    from app.domain.clock import utcnow

    return utcnow()


def subjects_to(address: str) -> list[str]:
    return list(db.session.scalars(select(OutgoingMessage.subject).where(OutgoingMessage.recipient == address)
                                   .order_by(OutgoingMessage.id)))


def test_a_report_settles_the_session_and_can_be_corrected_for_30_days(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    url = f"/comptes-rendus/interventions/{intervention.id}"
    login(client, trainer.user)
    early = client.get(url, follow_redirects=True)
    assert "une fois l'intervention passée" in text(early)

    after_session(clock, intervention)
    home = text(client.get("/accueil"))
    assert "Comptes rendus à remplir" in home and url in home
    errors = post_form(client, url, {"held": "oui", "people_present": "26", "pupils": "20", "staff": "2",
                                     "topics": []})
    html = text(errors)
    assert errors.status_code == 400
    assert "Élèves, personnels et parents doivent faire 26 au total." in html
    assert "Cochez au moins un thème abordé." in html
    missing = post_form(client, url, {"held": "non", "not_held_reason": "Collège fermé"})
    assert "Choisissez pourquoi l'intervention n'a pas eu lieu." in text(missing), "free text alone is not a reason"
    assert db.session.scalar(select(func.count(SessionReport.id))) == 0, "nothing half-written"

    assert post_form(client, url, FORM).status_code == 302
    db.session.expire_all()
    assert intervention.status is InterventionStatus.DONE
    assert intervention.request.status is RequestStatus.DONE
    report = db.session.scalar(select(SessionReport))
    assert (report.people_present, report.pupils, report.staff) == (26, 24, 2)
    assert [t.code for t in report.topics] == ["cannabis"]
    assert "Comptes rendus à remplir" not in text(client.get("/accueil"))

    # A correction within the 30 days: it was not held after all.
    clock.advance(timedelta(days=29))
    assert post_form(client, url, {"held": "non", "not_held_code": "premises_closed",
                                   "not_held_reason": "Collège fermé (neige)"}).status_code == 302
    db.session.expire_all()
    assert intervention.status is InterventionStatus.NOT_HELD and report.people_present is None
    assert (report.not_held_code, report.not_held_reason) == ("premises_closed", "Collège fermé (neige)")

    clock.advance(timedelta(days=2))
    locked = post_form(client, url, FORM)
    assert "verrouillé" in text(locked)
    db.session.expire_all()
    assert intervention.status is InterventionStatus.NOT_HELD

    # An admin reopens it.
    admin = make_user(Role.ADMIN)
    db.session.commit()
    switch_to(client, admin)
    request_page = f"/coordination/demandes/{intervention.request_id}"
    assert "Rouvrir pour correction" in text(client.get(request_page))
    post_form(client, f"/comptes-rendus/{report.id}/rouvrir", {}, page=request_page)
    switch_to(client, trainer.user)
    assert post_form(client, url, FORM).status_code == 302
    db.session.expire_all()
    assert intervention.status is InterventionStatus.DONE


def test_only_the_sessions_trainers_report(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    other = make_user(Role.TRAINER)
    stranger = make_qualified_trainer()
    db.session.commit()
    after_session(clock, intervention)
    login(client, stranger.user)
    assert client.get(f"/comptes-rendus/interventions/{intervention.id}").status_code == 404
    with pytest.raises(Refused, match="report_closed"):
        reports.save_report(db.session, intervention, stranger, reports.ReportData(held=True, people_present=3),
                            other, clock.now())


def test_reminders_arrive_once_each_at_the_right_time(app, client, clock, smtp_server):
    clock.advance(timedelta(days=-20))  # confirmed well before, so both reminders are due
    intervention, trainer, coordinator = make_confirmed_session()
    contact = "cpe@college.example"
    clock.freeze(intervention.starts_at - timedelta(days=8))
    tick(app)
    assert not [s for s in subjects_to(trainer.user.email) if "Rappel" in s], "too early"

    clock.freeze(intervention.starts_at - timedelta(days=7) + timedelta(minutes=5))
    tick(app)
    tick(app)  # cron every minute: still once
    assert subjects_to(trainer.user.email).count("[Relais] Rappel : intervention dans 7 jours") == 1
    assert subjects_to(contact).count("[Relais] Rappel : intervention dans 7 jours") == 1

    clock.freeze(intervention.starts_at - timedelta(hours=20))
    tick(app)
    assert subjects_to(trainer.user.email).count("[Relais] Rappel : intervention demain") == 1

    # Two days after the session, no report yet: the trainer is chased, once.
    clock.freeze(intervention.ends_at + timedelta(days=1))
    tick(app)
    assert "[Relais] Compte rendu d'intervention à remplir" not in subjects_to(trainer.user.email)
    clock.freeze(intervention.ends_at + timedelta(days=2, minutes=1))
    tick(app)
    tick(app)
    assert subjects_to(trainer.user.email).count("[Relais] Compte rendu d'intervention à remplir") == 1

    # Once reported held, the requester is invited to give feedback, once.
    reports.save_report(db.session, intervention, trainer,
                        reports.ReportData(held=True, people_present=25, topic_codes=("cannabis",)),
                        trainer.user, clock.now())
    db.session.commit()
    tick(app)
    tick(app)
    author = intervention.request.created_by
    assert subjects_to(author.email).count("[Relais] Votre avis sur l'intervention") == 1

    # Everything queued reaches the SMTP server, once.
    sent, failed = deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())
    assert failed == 0 and sent == len(smtp_server.handler.messages)
    received = [(m["To"], m["Subject"]) for m in smtp_server.handler.messages]
    assert received.count((trainer.user.email, "[Relais] Rappel : intervention demain")) == 1
    assert received.count((author.email, "[Relais] Votre avis sur l'intervention")) == 1


def test_weekly_digest_once_a_week_even_with_two_ticks_at_once(app, clock):
    make_session_in_planning()  # a session without trainer in the coordinator's scope
    coordinator = make_user(Role.COORDINATOR)
    from app.models import CoordinatorScope, Force

    coordinator.scopes.append(CoordinatorScope(departement_code="69", force=Force.POLICE))
    db.session.commit()

    def run() -> None:
        with app.app_context():
            from app.jobs import weekly_digest

            weekly_digest(db.session, clock.now())
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert subjects_to(coordinator.email) == ["[Relais] Relais : votre synthèse de la semaine"]
    clock.advance(timedelta(days=3))  # same ISO week
    tick(app)
    assert len(subjects_to(coordinator.email)) == 1
    clock.advance(timedelta(days=5))  # next week
    tick(app)
    assert len(subjects_to(coordinator.email)) == 2
