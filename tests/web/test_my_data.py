"""« Mes données » (issue #21): each role reads and downloads what Relais holds about them, and only that; a
correction request reaches the right people through the outbox and is recorded; the retention periods page."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.domain import retention
from app.domain.login_sessions import Lifetimes, open_session
from app.extensions import db
from app.models import CorrectionRequest, Feedback, Force, OutgoingMessage, RetentionSetting, Role, SessionReport
from tests.factories import (
    MONDAY_9,
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_request,
    make_trainer,
    make_user,
)
from tests.helpers import count_queries, post_form


def _trainer_with_sessions(count: int, clock):
    trainer = make_trainer()
    for index in range(count):
        session_ = make_assigned_session(trainer, MONDAY_9 + timedelta(days=index))
        db.session.add(SessionReport(intervention_id=session_.id, trainer_id=trainer.id, author_id=trainer.user_id,
                                     held=True, people_present=20 + index,
                                     editable_until=clock.now() + timedelta(days=3)))
    db.session.flush()
    return trainer


def test_a_trainer_reads_and_downloads_their_own_data_only(app, client, clock, logged_in):
    trainer = _trainer_with_sessions(2, clock)
    trainer.user.phone = "06 12 34 56 78"
    other = _trainer_with_sessions(1, clock)
    other.user.full_name = "Autre Formatrice Secrète"
    logged_in(trainer.user)
    page = client.get("/compte/mes-donnees")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("Mon compte", "Ma fiche de formateur", trainer.matricule, "06 12 34 56 78", "Mes interventions",
                 "Mes connexions", "Ce qui est partagé, et avec qui"):
        assert text in html, text
    assert other.matricule not in html and "Autre Formatrice Secrète" not in html
    download = client.get("/compte/mes-donnees.json")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.get_data(as_text=True))
    assert data["account"]["email"] == trainer.user.email and data["trainer"]["matricule"] == trainer.matricule
    assert len(data["sessions"]) == 2 and len(data["reports"]) == 2 and data["login_sessions"]
    assert data["shared_with"] and data["generated_at"]
    text = json.dumps(data)
    assert other.matricule not in text and other.user.email not in text
    assert "password" not in text and "token" not in text


def test_a_requester_sees_their_requests_and_feedback(app, client, clock, logged_in):
    school = make_establishment()
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    colleague = make_user(Role.REQUESTER, establishment_id=school.id)
    mine = make_request(school, requester, status="submitted", notes="Mes notes à moi")
    make_request(school, colleague, status="submitted", notes="Les notes du collègue")
    given = make_assigned_session(make_trainer(), clock.now() - timedelta(days=3), establishment=school)
    db.session.add(Feedback(intervention_id=given.id, author_id=requester.id, satisfaction=5, comment="Parfait"))
    logged_in(requester)
    data = client.get("/compte/mes-donnees.json").get_json()
    assert [r["id"] for r in data["requests"]] == [mine.id] and data["requests"][0]["notes"] == "Mes notes à moi"
    assert data["establishment"]["name"] == school.name and data["trainer"] is None
    assert data["feedback"][0]["comment"] == "Parfait"
    assert "Les notes du collègue" not in json.dumps(data)
    assert school.name in client.get("/compte/mes-donnees").get_data(as_text=True)


def test_the_page_costs_the_same_statements_whatever_the_person_did(app, client, clock, logged_in):
    few, many = _trainer_with_sessions(1, clock), _trainer_with_sessions(8, clock)
    counts = []
    for trainer in (few, many):
        db.session.commit()
        logged_in(trainer.user)
        for _ in range(2):
            open_session(db.session, trainer.user, clock.now(), Lifetimes(), remember=False)
        db.session.commit()
        client.get("/compte/mes-donnees")  # warm
        with count_queries() as statements:
            assert client.get("/compte/mes-donnees").status_code == 200
        counts.append(len(statements))
        post_form(client, "/compte/deconnexion", {}, page="/accueil")
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.COORDINATOR, Role.ADMIN])
def test_every_role_has_the_page(app, client, clock, logged_in, role):
    person = make_coordinator() if role is Role.COORDINATOR else make_user(role)
    logged_in(person)
    assert client.get("/compte/mes-donnees").status_code == 200
    assert client.get("/compte/mes-donnees.json").get_json()["account"]["role"] == role.value


def test_a_trainer_s_correction_goes_to_their_coordination_and_is_recorded(app, client, clock, logged_in):
    trainer = make_trainer("69")
    coordinator = make_coordinator("69")
    make_coordinator("13")  # another territory's: not told
    admin = make_user(Role.ADMIN)
    logged_in(trainer.user)
    page = client.get("/compte/mes-donnees/correction").get_data(as_text=True)
    assert "coordination de votre territoire" in page
    refused = post_form(client, "/compte/mes-donnees/correction", {"message": "  "})
    assert refused.status_code == 200 and "Décrivez la correction demandée." in refused.get_data(as_text=True)
    response = post_form(client, "/compte/mes-donnees/correction",
                         {"message": "Mon grade est désormais Brigadier-chef."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/compte/mes-donnees")
    messages = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.dedup_key.like("correction:%"))).all()
    assert [m.recipient for m in messages] == [coordinator.email]
    assert admin.email not in {m.recipient for m in messages}
    assert "Brigadier-chef" in messages[0].body_text and trainer.user.email in messages[0].body_text
    [recorded] = db.session.scalars(select(CorrectionRequest)).all()
    assert recorded.user_id == trainer.user_id and recorded.recipients == coordinator.email
    assert "Brigadier-chef" in client.get("/compte/mes-donnees").get_data(as_text=True)


def test_a_requester_s_correction_goes_to_the_national_administration(app, client, clock, logged_in):
    requester = make_user(Role.REQUESTER)
    admin = make_user(Role.ADMIN)
    logged_in(requester)
    post_form(client, "/compte/mes-donnees/correction", {"message": "Mon nom s'écrit Lefèvre."})
    [message] = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.dedup_key.like("correction:%")))
    assert message.recipient == admin.email


def test_the_administration_sets_the_retention_periods(app, client, clock, logged_in):
    admin = make_user(Role.ADMIN)
    logged_in(admin)
    page = client.get("/admin/conservation").get_data(as_text=True)
    assert "Coordonnées des contacts sur place" in page and 'value="3"' in page
    values = {"request_contacts": "5", "feedback_comments": "2", "unused_accounts": "18",
              "unused_accounts_warning": "15", "departed_trainers": "6", "audit_trail": "12"}
    wrong = post_form(client, "/admin/conservation", {**values, "unused_accounts": "0", "departed_trainers": "x"})
    assert wrong.status_code == 200 and "Entre 1 et 360." in wrong.get_data(as_text=True)
    assert retention.period(db.session, "request_contacts") == retention.Period(3, "years")
    assert post_form(client, "/admin/conservation", values).status_code == 302
    db.session.expire_all()
    assert retention.period(db.session, "request_contacts") == retention.Period(5, "years")
    assert db.session.get(RetentionSetting, "unused_accounts").updated_by_id == admin.id
    assert "5 ans" in client.get("/donnees-personnelles").get_data(as_text=True)


def test_only_the_administration_sets_them(app, client, clock, logged_in):
    logged_in(make_coordinator())
    assert client.get("/admin/conservation").status_code == 403


def test_the_coordination_records_a_trainer_s_departure(app, client, clock, logged_in):
    trainer = make_trainer("69")
    elsewhere = make_trainer("13", Force.GENDARMERIE)
    logged_in(make_coordinator("69"))
    assert "Départ du réseau" in client.get(f"/formateurs/{trainer.id}").get_data(as_text=True)
    assert client.get(f"/formateurs/{elsewhere.id}/depart").status_code == 404
    future = post_form(client, f"/formateurs/{trainer.id}/depart", {"departed_on": "2027-06-30"})
    assert "ne peut pas être à venir" in future.get_data(as_text=True)
    response = post_form(client, f"/formateurs/{trainer.id}/depart", {"departed_on": "2026-10-31"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/formateurs/{trainer.id}")
    db.session.expire_all()
    assert trainer.departed_on == date(2026, 10, 31) and not trainer.active
    assert "31 octobre 2027" in client.get(f"/formateurs/{trainer.id}").get_data(as_text=True)


def test_correction_requests_are_limited_to_a_few_a_day(app, client, clock, logged_in):
    make_user(Role.ADMIN)
    logged_in(make_user(Role.REQUESTER))
    for number in range(5):
        assert post_form(client, "/compte/mes-donnees/correction", {"message": f"Erreur {number}"}).status_code == 302
    refused = post_form(client, "/compte/mes-donnees/correction", {"message": "Encore une"})
    assert refused.status_code == 200 and "Vous avez déjà envoyé 5 demandes aujourd&#39;hui" in refused.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count(CorrectionRequest.id))) == 5
    clock.advance(timedelta(days=1, minutes=1))
    assert post_form(client, "/compte/mes-donnees/correction", {"message": "Le lendemain"}).status_code == 302


def test_the_demo_s_accounts_have_their_data_and_its_traces_of_retention(app, client, clock):
    from app.domain.retention import ANONYMISED_CONTACT
    from app.models import InactivityWarning, InterventionRequest, User
    from tests.factories import load_demo_data

    load_demo_data(seed=7, today=clock.now().date())
    assert db.session.scalar(select(func.count(InterventionRequest.id)).where(
        InterventionRequest.contact_name == ANONYMISED_CONTACT)) == 2
    assert db.session.scalar(select(func.count(InactivityWarning.id))) == 1
    from app.domain.demo import DEMO_PASSWORD
    from tests.helpers import login

    login(client, User.by_email("formateur.pfad@relais.demo"), DEMO_PASSWORD)
    data = client.get("/compte/mes-donnees.json").get_json()
    assert data["trainer"] and data["sessions"] and data["login_sessions"]
    assert client.get("/compte/mes-donnees").status_code == 200
