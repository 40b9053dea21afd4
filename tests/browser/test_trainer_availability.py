"""A trainer edits their availability in the browser: quick grid, an unavailable period, accessible pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AvailabilityException, AvailabilityPattern
from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_trainer

pytestmark = pytest.mark.browser


def test_a_trainer_ticks_half_days_and_declares_leave(app, page, clock):
    trainer = make_trainer("69")
    db.session.commit()
    email, trainer_id = trainer.user.email, trainer.id

    log_in(page, email, PASSWORD)
    page.get_by_role("link", name="Mes disponibilités", exact=True).click()
    page.wait_for_url("**/formateurs/mes-disponibilites")
    assert page.locator("h1").inner_text() == "Mes disponibilités"
    assert "disponibilité par défaut du lundi au vendredi" in page.content()
    assert_accessible(page)

    page.get_by_label("Mardi — Matin (8\u00a0h – 12\u00a0h)").check()
    page.get_by_label("Jeudi — Après-midi (13\u00a0h\u00a030 – 17\u00a0h\u00a030)").check()
    page.get_by_role("button", name="Enregistrer mes créneaux habituels").click()
    page.get_by_text("Créneaux habituels enregistrés.").wait_for()
    assert page.get_by_label("Mardi — Matin (8\u00a0h – 12\u00a0h)").is_checked()
    assert "Jeudi de 13\u00a0h\u00a030 à 17\u00a0h\u00a030" in page.locator("main").inner_text()

    page.get_by_label("Du", exact=True).fill("2026-12-21")
    page.get_by_label("Au", exact=True).fill("2026-12-24")
    page.get_by_label("Motif").fill("Congés de fin d'année")
    page.get_by_role("button", name="Ajouter").click()
    page.get_by_text("Indisponibilité ajoutée.").wait_for()
    assert "Congés de fin d'année" in page.content()
    assert_accessible(page)

    db.session.expire_all()
    weekdays = db.session.scalars(select(AvailabilityPattern.weekday)
                                  .where(AvailabilityPattern.trainer_id == trainer_id)
                                  .order_by(AvailabilityPattern.weekday)).all()
    assert weekdays == [1, 3]
    assert db.session.scalar(select(AvailabilityException.reason)) == "Congés de fin d'année"
