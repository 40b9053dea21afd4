"""In Chromium: an establishment's principal subscribes a URL to webhooks (#22), is told next to the field when
the address is refused, then sees the subscription with its secret and the log of deliveries; axe and no overflow
at desktop width and at 390 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain import caldav_push, webhooks
from app.domain.clock import utcnow
from app.extensions import db
from app.models import DeliveryStatus, Force, Role, WebhookDelivery, WebhookSubscription
from tests.browser.helpers import check_both_widths, log_in
from tests.factories import PASSWORD, make_establishment, make_user

pytestmark = pytest.mark.browser


def test_a_principal_subscribes_and_reads_the_log(app, page):
    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    db.session.commit()
    log_in(page, requester.email, PASSWORD)
    page.goto("/webhooks/")
    check_both_widths(page, "webhooks-liste-vide")
    page.get_by_role("link", name="Nouvel abonnement").click()
    app.config.update(RELAIS_WEBHOOKS_ALLOW_PRIVATE=False)
    page.get_by_label("Adresse de réception (URL)").fill("https://127.0.0.1/relais")
    page.get_by_label("Demande acceptée").check()
    page.get_by_label("Intervention confirmée").check()
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    field = page.get_by_label("Adresse de réception (URL)")
    assert field.get_attribute("aria-invalid") == "true"
    assert "réseau privé ou local" in page.locator("#url-erreur").inner_text()
    check_both_widths(page, "webhooks-erreur")

    field.fill("https://93.184.216.34/relais")
    page.get_by_label("Description (facultative)").fill("Logiciel de vie scolaire")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/webhooks/*#secret")
    subscription = db.session.scalars(select(WebhookSubscription)).one()
    assert subscription.event_names == ["request.accepted", "session.confirmed"]
    page.get_by_text("Afficher le secret").click()
    secret = webhooks.secret_of(subscription, caldav_push.keys_from(app.config))
    assert page.get_by_label("Secret", exact=True).input_value() == secret
    check_both_widths(page, "webhooks-abonnement")

    now = utcnow()
    db.session.add_all([WebhookDelivery(
        uuid=f"00000000-0000-4000-8000-00000000000{n}", subscription_id=subscription.id, event="request.accepted",
        payload="{}", occurred_at=now - timedelta(hours=n), created_at=now, attempts=1 + n,
        status=DeliveryStatus.DELIVERED if n else DeliveryStatus.PENDING, next_attempt_at=now + timedelta(minutes=4),
        last_attempt_at=now, response_status=200 if n else 503, response_body="Service Unavailable",
        response_headers="Content-Type: text/plain", duration_ms=150) for n in range(3)])
    db.session.commit()
    page.get_by_role("link", name="Journal des envois").first.click()
    page.wait_for_url("**/envois")
    assert "HTTP 503" in page.content() and "HTTP 200" in page.content()
    check_both_widths(page, "webhooks-journal")
    page.get_by_role("button", name="Rejouer").first.click()
    page.wait_for_url("**/envois")
    assert "Envoi remis en file" in page.get_by_role("status").first.inner_text() or "remis en file" in page.content()
