"""A coordinator opens the candidates of a session in the browser: accessible, and explained."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Force, Intervention, InterventionStatus
from tests.browser.helpers import assert_accessible, log_in

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
