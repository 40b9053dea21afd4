"""In Chromium, on the demo data: a trainer reads a session's page, declines an offer in two steps with the
keyboard, files a report (an empty Enter saves nothing), removes a period after confirming; the coordination
corrects a report and reads its history (issue #18). With RELAIS_SHOTS=<folder>, each page is also saved as a
screenshot at desktop width and at 390 px."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain.clock import utcnow
from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    AvailabilityException,
    Intervention,
    ReportCorrection,
    SessionReport,
    Trainer,
    User,
)
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser

TRAINER = "formateur.pfad@relais.demo"
COORDINATOR = "coordination.police.69@relais.demo"


def shot(page, name: str) -> None:
    """The page as it is, at desktop width then at a phone's 390 px, when RELAIS_SHOTS names a folder."""
    folder = os.environ.get("RELAIS_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width, suffix in ((1280, "desktop"), (390, "390")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{suffix}.png", full_page=True)
    page.set_viewport_size(size)


def demo_trainer() -> Trainer:
    return db.session.scalar(select(Trainer).join(User).where(User.email == TRAINER))


def test_a_trainer_reads_a_session_and_declines_an_offer_with_the_keyboard(demo, page):
    log_in(page, TRAINER, DEMO_PASSWORD)
    shot(page, "home")
    assert page.get_by_label("Motif du refus").count() == 0, "no reason box beside Accepter"
    # Offers by date: the headings' dates in the order of the sessions.
    trainer = demo_trainer()
    offered = db.session.scalars(select(Assignment).join(Intervention).where(
        Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.OFFERED,
        Assignment.expires_at > utcnow()).order_by(Intervention.starts_at)).all()
    # The home shows the first few (the others are one link away, on the offers' page).
    from app.main.routes import HOME_OFFERS

    assert len(offered) > 1
    assert [int(i) for i in re.findall(r'id="proposition-(\d+)"', page.content())] == [
        a.id for a in offered[:HOME_OFFERS]]
    first = offered[0].intervention
    assert first.request.notes in page.content(), "the offer shows the requester's remarks"

    # A confirmed session, from "Mes prochaines interventions".
    upcoming = page.get_by_role("region", name="Mes prochaines interventions")
    upcoming.get_by_role("link").first.click()
    page.wait_for_url("**/formateurs/mes-interventions/*")
    assert page.get_by_role("link", name="Itinéraire sur OpenStreetMap").get_attribute("href").startswith(
        "https://www.openstreetmap.org/directions?to=")
    assert page.locator('a[href^="tel:"]').count() >= 1
    assert_accessible(page)
    shot(page, "session")

    # Declining, keyboard only: the link, then the reason on its own page.
    page.goto("/accueil")
    decline = page.get_by_role("link", name=re.compile("^Décliner…")).first
    decline.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/decliner")
    assert_accessible(page)
    shot(page, "decline")
    page.get_by_label("Motif du refus").focus()
    page.keyboard.type("Convoqué au tribunal ce jour-là")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/accueil")
    assert "Proposition déclinée" in page.content()
    db.session.expire_all()
    assert db.session.get(Assignment, offered[0].id).decline_reason == "Convoqué au tribunal ce jour-là"


def test_a_report_says_whether_it_was_held_and_an_empty_enter_saves_nothing(demo, page):
    trainer = demo_trainer()
    due = db.session.scalars(select(Intervention).join(Assignment).where(
        Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.ACCEPTED,
        Intervention.ends_at <= utcnow(), ~Intervention.reports.any(SessionReport.trainer_id == trainer.id))
        .order_by(Intervention.starts_at)).first()
    assert due is not None, "the demo leaves a report to file"
    reports_before = db.session.scalar(select(func.count(SessionReport.id)))
    log_in(page, TRAINER, DEMO_PASSWORD)
    page.goto(f"/formateurs/mes-interventions/{due.id}")
    page.get_by_role("link", name="Remplir le compte rendu").click()
    page.wait_for_url(f"**/comptes-rendus/interventions/{due.id}")
    assert not page.get_by_label("Oui").is_checked() and not page.get_by_label("Non", exact=True).is_checked()
    assert_accessible(page)
    shot(page, "report-empty")
    page.get_by_label("Nombre de personnes présentes").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Indiquez si l'intervention a eu lieu : oui ou non.", exact=True).wait_for()
    assert "Rien n'est enregistré" in page.content()
    assert db.session.scalar(select(func.count(SessionReport.id))) == reports_before
    assert_accessible(page)
    shot(page, "report-errors")

    page.get_by_label("Non", exact=True).check()
    page.get_by_role("button", name="Enregistrer le compte rendu").click()
    page.get_by_text("Choisissez pourquoi l'intervention n'a pas eu lieu.", exact=True).wait_for()
    page.get_by_label("Grève, intempéries ou autre événement").check()
    page.get_by_label("Précisions sur le motif (facultatif)").fill("Grève des transports scolaires")
    page.get_by_role("button", name="Enregistrer le compte rendu").click()
    page.wait_for_url(f"**/formateurs/mes-interventions/{due.id}")
    assert "Grève, intempéries ou autre événement — Grève des transports scolaires" in page.content()
    assert_accessible(page)
    shot(page, "session-after-report")


def test_deleting_an_unavailability_is_confirmed_and_its_days_read_as_entered(demo, page):
    log_in(page, TRAINER, DEMO_PASSWORD)
    page.get_by_role("link", name="Mes disponibilités").first.click()
    first = utcnow().date() + timedelta(days=40)
    last = first + timedelta(days=4)
    page.get_by_label("Du", exact=True).fill(first.isoformat())
    page.get_by_label("Au", exact=True).fill(last.isoformat())
    page.get_by_label("Motif").fill("Congés")
    page.get_by_role("button", name="Ajouter").click()
    page.get_by_text("Indisponibilité ajoutée.").wait_for()
    row = page.get_by_role("row").filter(has_text="Congés")
    assert re.search(rf"du {first.day}(er)? .* au {last.day}(er)? .* inclus", row.inner_text())
    assert "00:00" not in row.inner_text()
    shot(page, "availability")
    count = db.session.scalar(select(func.count(AvailabilityException.id)))
    row.get_by_role("link", name=re.compile("^Supprimer…")).click()
    page.wait_for_url("**/supprimer")
    assert db.session.scalar(select(func.count(AvailabilityException.id))) == count, "nothing deleted yet"
    assert_accessible(page)
    shot(page, "delete-period")
    page.get_by_role("button", name="Supprimer la période").click()
    page.get_by_text("Période supprimée.").wait_for()
    assert db.session.scalar(select(func.count(AvailabilityException.id))) == count - 1


def test_the_coordination_corrects_a_report_and_reads_its_history(demo, page):
    log_in(page, COORDINATOR, DEMO_PASSWORD)
    page.goto("/comptes-rendus/")
    assert page.get_by_role("link", name="Comptes rendus").first.get_attribute("aria-current") == "page"
    assert_accessible(page)
    shot(page, "reports")
    corrected = page.get_by_role("row").filter(has_text="corrigé").first
    corrected.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/comptes-rendus/\d+$"))
    history = page.get_by_role("region", name="Historique des corrections")
    assert "Karim Benali" in history.inner_text() and "Personnes présentes : " in history.inner_text()
    assert_accessible(page)
    shot(page, "report-history")
    report_id = int(page.url.rsplit("/", 1)[1])
    before = db.session.scalar(select(func.count(ReportCorrection.id)).where(ReportCorrection.report_id == report_id))
    page.get_by_role("link", name="Corriger le compte rendu").click()
    assert_accessible(page)
    shot(page, "report-correct")
    people = page.get_by_label("Nombre de personnes présentes")
    people.fill(str(int(people.input_value()) + 1))
    page.get_by_label("dont élèves ou étudiants").fill("")
    page.get_by_label("dont personnels").fill("")
    page.get_by_role("button", name="Enregistrer la correction").click()
    page.get_by_text("Compte rendu corrigé").wait_for()
    after = db.session.scalar(select(func.count(ReportCorrection.id)).where(ReportCorrection.report_id == report_id))
    assert after > before
