"""The webhook pages (#22): an establishment's staff and the coordination subscribe, see the log, replay, pause and
resume, change the secret, delete — each within their scope; French errors next to their fields; and a request
sent from the site reaches a real receiver on loopback once `flask tick` runs."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from app.domain import caldav_push, webhooks
from app.extensions import db
from app.jobs import send_webhooks
from app.models import DeliveryStatus, Force, Role, User, WebhookDelivery, WebhookSubscription
from app.unit_of_work import run
from tests.factories import make_coordinator, make_establishment, make_request, make_user
from tests.helpers import login, post_form
from tests.webhook_receiver import webhook_receiver  # noqa: F401 (the fixture)

ALL_EVENTS = list(webhooks.EVENTS)


def _keys(app):
    return caldav_push.keys_from(app.config)


def _subscription(app, owner, url="https://93.184.216.34/hook", territory=None, now=None) -> WebhookSubscription:
    subscription = webhooks.subscribe(db.session, owner, url, ALL_EVENTS, "Outil", _keys(app),
                                      webhooks.Settings.from_config(app.config), now, territory=territory)
    db.session.commit()
    return subscription


def test_an_establishment_subscribes_and_a_request_sent_on_the_site_reaches_the_receiver(
        app, client, clock, webhook_receiver):  # noqa: F811
    webhook_receiver.clock = lambda: clock.now().timestamp()
    school = make_establishment("69", force=Force.POLICE)
    request = make_request(school, status="draft", start=(clock.now() + timedelta(days=40)).date())
    requester = request.created_by
    make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, requester)
    page = client.get("/webhooks/").get_data(as_text=True)
    assert "Aucun abonnement" in page and "Nouvel abonnement" in page
    response = post_form(client, "/webhooks/nouveau", {"url": webhook_receiver.url, "events": ALL_EVENTS,
                                                        "description": "Tableau du CPE"})
    assert response.status_code == 302
    subscription = db.session.scalars(select(WebhookSubscription)).one()
    assert subscription.establishment_id == school.id and subscription.owner_id == requester.id
    secret = webhooks.secret_of(subscription, _keys(app))
    page = client.get(response.location).get_data(as_text=True)
    assert secret in page  # revealable to its owners
    webhook_receiver.secrets = [secret]
    # The request is sent from its page: the delivery is queued with it, and sent by the tick.
    response = post_form(client, f"/demandes/{request.id}/envoyer", {}, page=f"/demandes/{request.id}")
    assert response.status_code == 302
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.event == "request.submitted"
    run(lambda: send_webhooks(db.session, clock.now()))
    [received] = webhook_receiver.accepted()
    assert received.verified and received.json["data"]["request"]["id"] == request.id
    log = client.get(f"/webhooks/{subscription.id}/envois").get_data(as_text=True)
    assert "Demande envoyée" in log and "HTTP 200" in log and delivery.uuid in log


def test_errors_go_next_to_their_fields_in_french(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    db.session.commit()
    login(client, requester)
    app.config.update(RELAIS_WEBHOOKS_ALLOW_HTTP=False, RELAIS_WEBHOOKS_ALLOW_PRIVATE=False)
    cases = [("http://93.184.216.34/hook", ALL_EVENTS, "L&#39;adresse doit commencer par https://"),
             ("https://127.0.0.1/hook", ALL_EVENTS, "réseau privé ou local"),
             ("https://localhost/hook", ALL_EVENTS, "réseau privé ou local"),
             ("pas une adresse", ALL_EVENTS, "Donnez une adresse complète"),
             ("https://93.184.216.34/hook", [], "Choisissez au moins un événement.")]
    for url, events, message in cases:
        response = post_form(client, "/webhooks/nouveau", {"url": url, "events": events}, page="/webhooks/nouveau")
        page = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert message in page, url
        if events:  # the address's field is marked (a list of checkboxes says it in its legend's description)
            assert re.search(r'id="url"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="url"', page), url
    assert db.session.scalars(select(WebhookSubscription)).all() == []


def test_a_coordinator_subscribes_for_their_territory_and_sees_nothing_of_others(app, client, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    other_school = make_establishment("69", force=Force.POLICE)
    theirs = _subscription(app, make_user(Role.REQUESTER, establishment_id=other_school.id), now=clock.now())
    elsewhere = _subscription(app, make_coordinator("13", Force.GENDARMERIE), territory=("13", Force.GENDARMERIE),
                              now=clock.now())
    login(client, coordinator)
    page = client.get("/webhooks/nouveau").get_data(as_text=True)
    assert 'value="69:police"' in page and "13:" not in page
    response = post_form(client, "/webhooks/nouveau", {"territory": "13:gendarmerie", "url": "https://93.184.216.34/",
                                                        "events": ["session.confirmed"]})
    assert response.status_code == 400  # not a choice of theirs
    response = post_form(client, "/webhooks/nouveau", {"territory": "69:police", "url": "https://93.184.216.34/",
                                                        "events": ["session.confirmed", "report.filed"]})
    assert response.status_code == 302
    mine = db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.owner_id == coordinator.id)).one()
    assert (mine.departement_code, mine.force, mine.event_names) == ("69", Force.POLICE,
                                                                    ["session.confirmed", "report.filed"])
    listed = client.get("/webhooks/").get_data(as_text=True)
    assert f"/webhooks/{mine.id}" in listed
    assert f"/webhooks/{theirs.id}\"" not in listed and f"/webhooks/{elsewhere.id}\"" not in listed
    for other in (theirs, elsewhere):
        assert client.get(f"/webhooks/{other.id}").status_code == 404
        assert client.get(f"/webhooks/{other.id}/envois").status_code == 404


def test_pause_resume_new_secret_and_delete_from_the_page(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    subscription = _subscription(app, requester, now=clock.now())
    login(client, requester)
    page = f"/webhooks/{subscription.id}"
    assert post_form(client, f"{page}/pause", {}, page=page).status_code == 302
    db.session.refresh(subscription)
    assert not subscription.active and not subscription.paused_for_failures
    assert "Reprendre les envois" in client.get(page).get_data(as_text=True)
    assert post_form(client, f"{page}/reprise", {}, page=page).status_code == 302
    db.session.refresh(subscription)
    assert subscription.active
    before = webhooks.secret_of(subscription, _keys(app))
    assert post_form(client, f"{page}/secret", {}, page=page).status_code == 302
    db.session.refresh(subscription)
    assert webhooks.secret_of(subscription, _keys(app)) != before
    response = post_form(client, page, {"url": "https://93.184.216.34/autre", "events": ["report.filed"],
                                        "description": ""})
    assert response.status_code == 302
    db.session.refresh(subscription)
    assert subscription.url == "https://93.184.216.34/autre" and subscription.event_names == ["report.filed"]
    assert post_form(client, f"{page}/suppression", {}, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookSubscription, subscription.id) is None


def test_the_log_is_paged_by_key_and_a_delivery_is_replayed_from_it(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    subscription = _subscription(app, requester, now=clock.now())
    for number in range(30):
        db.session.add(WebhookDelivery(
            uuid=f"00000000-0000-4000-8000-{number:012d}", subscription_id=subscription.id,
            event="request.accepted", payload=json.dumps({"n": number}), occurred_at=clock.now(),
            created_at=clock.now(), status=DeliveryStatus.FAILED if number == 0 else DeliveryStatus.DELIVERED,
            attempts=1, next_attempt_at=clock.now(), response_status=500 if number == 0 else 204, duration_ms=120))
    db.session.commit()
    login(client, requester)
    first = client.get(f"/webhooks/{subscription.id}/envois").get_data(as_text=True)
    assert "000000000029" in first and "000000000000" not in first
    next_url = re.search(r'href="([^"]*avant=\d+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert "000000000000" in second and "000000000029" not in second and "HTTP 500" in second
    failed = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.FAILED)).one()
    response = post_form(client, f"/webhooks/{subscription.id}/envois/{failed.id}/rejouer", {}, page=next_url)
    assert response.status_code == 302
    db.session.refresh(failed)
    assert failed.status is DeliveryStatus.PENDING and failed.attempts == 0


def test_another_establishment_cannot_reach_a_subscription(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    subscription = _subscription(app, make_user(Role.REQUESTER, establishment_id=school.id), now=clock.now())
    stranger = make_user(Role.REQUESTER, establishment_id=make_establishment("69", force=Force.POLICE).id)
    db.session.commit()
    login(client, stranger)
    assert client.get(f"/webhooks/{subscription.id}").status_code == 404
    assert post_form(client, f"/webhooks/{subscription.id}/pause", {}, page="/webhooks/").status_code == 404
    db.session.refresh(subscription)
    assert subscription.active


def test_trainers_have_no_webhooks(app, client):
    trainer = make_user(Role.TRAINER)
    db.session.commit()
    login(client, trainer)
    assert client.get("/webhooks/").status_code == 403
    assert "/webhooks/" not in client.get("/accueil").get_data(as_text=True)


def test_the_demo_has_subscriptions_with_received_and_failed_deliveries(app, client, clock):
    from datetime import date

    from app.domain.demo import DEMO_PASSWORD
    from tests.factories import load_demo_data

    load_demo_data(7, date(2026, 11, 30))
    for email, failure in (("principal.college@relais.demo", "HTTP 503"),
                           ("coordination.police.69@relais.demo", "pas de réponse dans le délai")):
        person = db.session.scalars(select(User).where(User.email == email)).one()
        login(client, person, DEMO_PASSWORD)
        listed = client.get("/webhooks/").get_data(as_text=True)
        found = re.search(r'href="/webhooks/(\d+)"', listed)
        assert found, email
        log = client.get(f"/webhooks/{found.group(1)}/envois").get_data(as_text=True)
        assert "HTTP 200" in log and failure in log, email
        post_form(client, "/compte/deconnexion", {}, page="/accueil")


def test_the_log_sends_the_same_statements_with_five_deliveries_or_two_hundred(app, client, clock):
    from tests.helpers import count_queries

    school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=school.id)
    subscription = _subscription(app, requester, now=clock.now())
    login(client, requester)

    def statements_with(count: int) -> list[str]:
        existing = len(db.session.scalars(select(WebhookDelivery.id)).all())
        db.session.add_all([WebhookDelivery(
            uuid=f"10000000-0000-4000-8000-{existing + n:012d}", subscription_id=subscription.id,
            event="session.confirmed", payload="{}", occurred_at=clock.now(), created_at=clock.now(),
            status=DeliveryStatus.DELIVERED, attempts=1, next_attempt_at=clock.now(), response_status=200)
            for n in range(count - existing)])
        db.session.commit()
        with count_queries() as sent:
            assert client.get(f"/webhooks/{subscription.id}/envois").status_code == 200
        return sent

    assert statements_with(5) == statements_with(200)
