"""A coordinator opens the candidates of a session in the browser: accessible, and explained."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Force, Intervention, InterventionStatus
from tests.browser.helpers import assert_accessible, check_both_widths, log_in

pytestmark = pytest.mark.browser


def test_coordinator_reads_candidates_of_a_session(demo, page):
    intervention = db.session.scalars(
        select(Intervention).where(Intervention.departement_code == "69", Intervention.force == Force.POLICE,
                                   Intervention.status == InterventionStatus.TO_SCHEDULE).order_by(Intervention.id)
    ).first()
    assert intervention is not None, "the demo has sessions waiting for a trainer"
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    page.goto(f"/coordination/demandes/{intervention.request_id}")
    page.get_by_role("link", name=f"Formateurs possibles — {intervention.group_label}").click()
    page.wait_for_url("**/candidats")
    assert page.get_by_role("heading", name="Formateurs écartés et pourquoi").is_visible()
    assert_accessible(page)


# Whether the chosen option of a select is written whole in its box (padding and arrow included).
_OPTION_FITS = """select => {
  const style = getComputedStyle(select);
  const probe = document.createElement("span");
  probe.style.font = style.font;
  probe.style.whiteSpace = "nowrap";
  probe.textContent = select.options[select.selectedIndex].text;
  document.body.appendChild(probe);
  const needed = probe.getBoundingClientRect().width + parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  probe.remove();
  return needed <= select.getBoundingClientRect().width + 1;
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_times_offered_to_a_candidate_are_readable_whole(demo, page, width):
    intervention = db.session.scalars(
        select(Intervention).where(Intervention.departement_code == "69", Intervention.force == Force.POLICE,
                                   Intervention.status == InterventionStatus.TO_SCHEDULE).order_by(Intervention.id)
    ).first()
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    page.goto(f"/coordination/demandes/{intervention.request_id}/interventions/{intervention.id}/candidats")
    times = page.get_by_role("combobox", name="Horaire pour")
    assert times.count() >= 1
    for index in range(times.count()):
        assert times.nth(index).evaluate(_OPTION_FITS), times.nth(index).evaluate("s => s.options[0].text")
    assert page.get_by_text("Le score additionne quatre composantes").is_visible()
    # The wide table scrolls in its own box: the page itself does not slide sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"/coordination/demandes/{intervention.request_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)


def test_a_trainer_the_session_filled_is_offered_it_again_after_the_one_who_accepted_fell_ill(demo, page, clock):
    """Two asked, the first accepts (the second's offer closes, session full), then falls ill: the staffing box
    tells both stories and the second is among the candidates with their button, at both widths."""
    from datetime import timedelta

    from app.domain import offers
    from app.domain.matching import rank_intervention
    from app.models import Trainer, User
    from tests.factories import OFFER_SETTINGS

    intervention = db.session.scalars(
        select(Intervention).where(Intervention.departement_code == "69", Intervention.force == Force.POLICE,
                                   Intervention.status == InterventionStatus.TO_SCHEDULE).order_by(Intervention.id)
    ).first()
    ranking = rank_intervention(db.session, intervention.id, clock.now(), max_starts=None)
    first, second = ranking.candidates[:2]
    start = min(set(first.all_starts) & set(second.all_starts))
    end = start + timedelta(minutes=intervention.request.duration_minutes)
    coordinator = db.session.scalar(select(User).where(User.email == "coordination.police.69@relais.demo"))
    made = [offers.make_offer(db.session, intervention, db.session.get(Trainer, c.trainer_id), start, end,
                              coordinator, clock.now(), OFFER_SETTINGS).notices[0].assignment
            for c in (first, second)]
    offers.accept_offer(db.session, made[0], clock.now())
    offers.withdraw(db.session, made[0], coordinator, "Arrêt maladie.", clock.now())
    db.session.commit()
    again = db.session.get(Trainer, second.trainer_id).user.full_name
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    page.goto(f"/coordination/demandes/{intervention.request_id}/interventions/{intervention.id}/candidats")
    assert page.get_by_role("combobox", name=f"Horaire pour {again}").is_visible()
    check_both_widths(page, "candidates-filled-then-reopened")
