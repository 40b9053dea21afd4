"""Signed webhooks (#22): the SSRF guard, the signature, the queue written with the change, and deliveries to a
real HTTP server on loopback that checks them as docs/webhooks.md says (retries, pause, replay, scope)."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain import caldav_push, lifecycle, offers, webhooks
from app.domain.refusals import Refused
from app.extensions import db
from app.jobs import send_webhooks
from app.models import DeliveryStatus, Force, OutgoingMessage, WebhookDelivery, WebhookSubscription
from app.unit_of_work import run
from tests.factories import (
    MONDAY_9,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
)
from tests.webhook_receiver import signature_valid, webhook_receiver  # noqa: F401 (the fixture)

STRICT = webhooks.Settings()  # production: https only, public addresses only
LOCAL = webhooks.Settings(allow_http=True, allow_private=True, max_attempts=5, pause_after=4)

FORBIDDEN = [
    "127.0.0.1", "127.8.9.1", "10.0.0.1", "172.16.5.4", "192.168.1.10", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1",  # noqa: S104 (an address refused, not bound) "239.255.255.250", "240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.10",
    "[::1]", "[::]", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "[ff02::1]", "[::ffff:127.0.0.1]",
    "[::ffff:10.1.2.3]", "[::ffff:169.254.169.254]", "[64:ff9b::a00:1]", "[2002:7f00:1::1]", "[2001:db8::1]",
]


@pytest.mark.parametrize("host", FORBIDDEN)
def test_loopback_private_link_local_multicast_and_reserved_addresses_are_refused(host):
    with pytest.raises(Refused) as refused:
        webhooks.check_url(f"https://{host}/hook", STRICT)
    assert refused.value.code == "webhook_url_private"


def test_a_name_resolving_to_loopback_is_refused_unless_private_addresses_are_allowed():
    with pytest.raises(Refused) as refused:
        webhooks.check_url("https://localhost:8443/hook", STRICT)
    assert refused.value.code == "webhook_url_private"
    assert webhooks.check_url("https://localhost:8443/hook", webhooks.Settings(allow_private=True)) in (
        "127.0.0.1", "::1")


def test_every_address_of_a_name_is_checked_and_the_checked_one_is_used():
    def resolve(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    with pytest.raises(Refused):
        webhooks.check_url("https://rebind.exemple.fr/hook", STRICT, resolve)

    def public(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    assert webhooks.check_url("https://ok.exemple.fr/hook", STRICT, public) == "93.184.216.34"


def test_public_addresses_pass_and_only_https_unless_allowed():
    assert webhooks.check_url("https://93.184.216.34/hook", STRICT) == "93.184.216.34"
    assert webhooks.check_url("https://[2606:4700:4700::1111]/hook", STRICT) == "2606:4700:4700::1111"
    with pytest.raises(Refused) as refused:
        webhooks.check_url("http://93.184.216.34/hook", STRICT)
    assert refused.value.code == "webhook_url_https"
    assert webhooks.check_url("http://93.184.216.34/hook", webhooks.Settings(allow_http=True))
    for bad in ("ftp://93.184.216.34/", "https://user:pw@93.184.216.34/", "https:///x", "https://93.184.216.34:99999/",
                "javascript:alert(1)", "//93.184.216.34/"):
        with pytest.raises(Refused) as refused:
            webhooks.check_url(bad, STRICT)
        assert refused.value.code == "webhook_url_invalid", bad
    with pytest.raises(Refused) as refused:
        webhooks.check_url("https://nom-qui-n-existe-pas.invalid/hook", STRICT)
    assert refused.value.code == "webhook_url_unknown_host"


def test_the_signature_is_the_documented_hmac_of_timestamp_and_body(clock):
    body = b'{"id":"x","event":"request.submitted"}'
    timestamp = int(clock.now().timestamp())
    headers = {"Relais-Webhook-Timestamp": str(timestamp),
               "Relais-Webhook-Signature": webhooks.signature("whsec_abc", timestamp, body)}
    assert signature_valid("whsec_abc", headers, body, clock.now().timestamp())
    assert not signature_valid("whsec_other", headers, body, clock.now().timestamp())
    assert not signature_valid("whsec_abc", headers, body + b" ", clock.now().timestamp())
    assert not signature_valid("whsec_abc", headers, body, clock.now().timestamp() + 301)  # outside the window
    assert webhooks.verify("whsec_abc", headers, body, clock.now())


# -- with the database --------------------------------------------------------------------------------------------


def _keys(app):
    return caldav_push.keys_from(app.config)


def _subscribe(app, owner, url, events=tuple(webhooks.EVENTS), territory=None, now=None):
    return webhooks.subscribe(db.session, owner, url, list(events), "Test", _keys(app), LOCAL, now,
                              territory=territory)


def _deliveries(subscription_id=None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    return list(db.session.scalars(query))


@pytest.fixture
def rhone(app, clock, webhook_receiver):  # noqa: F811
    """A collège of the Rhône (police) with a draft request, its coordinator, and three subscriptions: the
    collège's, the Rhône police coordination's, and another collège's (which must get nothing)."""
    webhook_receiver.clock = lambda: clock.now().timestamp()
    school = make_establishment("69", force=Force.POLICE)
    other_school = make_establishment("69", force=Force.POLICE)
    request = make_request(school, status="draft")
    coordinator = make_coordinator("69", Force.POLICE)
    ours = _subscribe(app, request.created_by, webhook_receiver.url, now=clock.now())
    territory = _subscribe(app, coordinator, webhook_receiver.url, territory=("69", Force.POLICE), now=clock.now())
    other_requester = make_request(other_school, status="draft").created_by
    other = _subscribe(app, other_requester, webhook_receiver.url, now=clock.now())
    gendarmes = _subscribe(app, make_coordinator("69", Force.GENDARMERIE), webhook_receiver.url,
                           territory=("69", Force.GENDARMERIE), now=clock.now())
    db.session.commit()
    webhook_receiver.secrets = [webhooks.secret_of(s, _keys(app)) for s in (ours, territory, other, gendarmes)]
    return request, coordinator, ours, territory, other, gendarmes


def test_a_change_queues_one_delivery_per_interested_subscription_in_its_transaction(app, clock, rhone,
                                                                                     webhook_receiver):  # noqa: F811
    request, coordinator, ours, territory, other, gendarmes = rhone
    assert run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now())).ok
    queued = _deliveries()
    assert {(d.subscription_id, d.event) for d in queued} == {(ours.id, "request.submitted"),
                                                              (territory.id, "request.submitted")}
    body = json.loads(queued[0].payload)
    assert body["id"] == queued[0].uuid and body["event"] == "request.submitted"
    assert body["occurred_at"] == "2026-11-30T09:00:00+00:00"
    assert body["data"]["request"]["id"] == request.id and body["data"]["request"]["status"] == "submitted"
    assert body["data"]["request"]["establishment"]["id"] == request.establishment_id
    # No person's details: the contact's name and telephone, the requester's e-mail stay in Relais.
    for private in (request.contact_name, request.contact_phone, request.created_by.email):
        assert private not in queued[0].payload

    outcome = webhooks.deliver_due(db.session, clock.now(), _keys(app), LOCAL)
    assert outcome.delivered == 2 and outcome.failed == 0
    assert len(webhook_receiver.accepted()) == 2 and all(r.verified for r in webhook_receiver.received)
    got = webhook_receiver.received[0]
    assert got.headers["Relais-Webhook-Id"] == got.json["id"]
    assert got.headers["Content-Type"].startswith("application/json")
    db.session.expire_all()
    assert all(d.status is DeliveryStatus.DELIVERED and d.response_status == 200 for d in _deliveries())
    assert '{"ok": true}' in _deliveries()[0].response_body


def test_a_refused_change_writes_no_delivery(app, clock, rhone):
    request = rhone[0]

    def submit_then_refused():
        lifecycle.submit(db.session, request, request.created_by, clock.now())
        raise Refused("request_incomplete")

    assert not run(submit_then_refused).ok
    assert _deliveries() == []
    # Nor does the next unit of work send what the refused one had noted.
    assert run(lambda: None).ok
    assert _deliveries() == []


def test_the_session_events_reach_the_establishment_and_its_territory_only(app, clock, rhone):
    request, coordinator, ours, territory, other, gendarmes = rhone
    run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now()))
    run(lambda: lifecycle.accept(db.session, request, coordinator, clock.now()))
    intervention = request.interventions[0]
    trainer = make_qualified_trainer()
    db.session.commit()
    assert run(lambda: offers.assign_directly(db.session, intervention, trainer, MONDAY_9,
                                              MONDAY_9 + timedelta(hours=1), coordinator, clock.now())).ok
    new_start = MONDAY_9 + timedelta(days=1)
    assert run(lambda: offers.reschedule(db.session, intervention, new_start, new_start + timedelta(hours=1),
                                         coordinator, clock.now())).ok
    assert run(lambda: lifecycle.cancel_intervention(db.session, intervention, coordinator, "Grève",
                                                     clock.now())).ok
    events = [d.event for d in _deliveries(ours.id)]
    assert events == ["request.submitted", "request.accepted", "session.planned", "session.confirmed",
                      "session.rescheduled", "session.cancelled"]
    assert [d.event for d in _deliveries(territory.id)] == events
    assert _deliveries(other.id) == [] and _deliveries(gendarmes.id) == []
    rescheduled = json.loads(_deliveries(ours.id)[4].payload)["data"]["session"]
    assert rescheduled["starts_at"] == "2027-01-12T09:00:00+01:00"  # the establishment's time zone
    assert rescheduled["timezone"] == "Europe/Paris"
    cancelled = json.loads(_deliveries(ours.id)[5].payload)["data"]["session"]
    assert cancelled["status"] == "cancelled" and cancelled["reason"] == "Grève"


def test_one_transaction_over_many_requests_reads_the_subscriptions_once(app, clock, rhone):
    """Submitting two requests or eight in one transaction (a plan sends hundreds of offers at once): the same
    statements on the subscriptions, and each event still reaches only those who may see its request."""
    from app.models import WebhookSubscription
    from tests.helpers import count_queries

    request, coordinator, ours, territory, other, gendarmes = rhone
    school = request.establishment

    def reads_of_subscriptions(count: int) -> int:
        requests = [make_request(school, request.created_by, status="draft") for _ in range(count)]
        db.session.commit()

        def submit_all():
            for item in requests:
                lifecycle.submit(db.session, item, item.created_by, clock.now())

        with count_queries() as statements:
            assert run(submit_all).ok
        return sum(1 for statement in statements if WebhookSubscription.__tablename__ + "." in statement
                   and statement.lstrip().upper().startswith("SELECT"))

    assert reads_of_subscriptions(2) == reads_of_subscriptions(8) == 1
    assert {d.subscription_id for d in _deliveries()} == {ours.id, territory.id}
    assert len(_deliveries(ours.id)) == len(_deliveries(territory.id)) == 10


def test_a_failing_receiver_gets_the_delivery_again_with_back_off_until_it_recovers(app, clock, rhone,
                                                                                   webhook_receiver):  # noqa: F811
    request = rhone[0]
    run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now()))
    webhook_receiver.fail(4)  # two deliveries, each failing twice
    assert webhooks.deliver_due(db.session, clock.now(), _keys(app), LOCAL).failed == 2
    db.session.expire_all()
    first = _deliveries()[0]
    assert first.status is DeliveryStatus.PENDING and first.attempts == 1 and first.response_status == 500
    assert timedelta(minutes=1) < first.next_attempt_at - clock.now() < timedelta(minutes=3)
    # Not due yet: nothing goes.
    assert webhooks.deliver_due(db.session, clock.now(), _keys(app), LOCAL).failed == 0
    clock.advance(timedelta(minutes=3))
    assert webhooks.deliver_due(db.session, clock.now(), _keys(app), LOCAL).failed == 2
    clock.advance(timedelta(minutes=5))
    assert webhooks.deliver_due(db.session, clock.now(), _keys(app), LOCAL).delivered == 2
    db.session.expire_all()
    assert all(d.status is DeliveryStatus.DELIVERED and d.attempts == 3 for d in _deliveries())
    # Six attempts, two deliveries: each arrived under one id, processed once.
    assert len(webhook_receiver.received) == 6
    assert sorted(webhook_receiver.processed.values()) == [1, 1]
    assert {r.headers["Relais-Webhook-Id"] for r in webhook_receiver.received} == {d.uuid for d in _deliveries()}
    db.session.refresh(rhone[2])
    assert rhone[2].consecutive_failures == 0 and rhone[2].active


def test_a_delivery_that_keeps_failing_ends_failed_and_can_be_replayed(app, clock, rhone,
                                                                      webhook_receiver):  # noqa: F811
    request, _coordinator, ours, territory, _other, _gendarmes = rhone
    db.session.delete(territory)
    db.session.commit()
    run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now()))
    webhook_receiver.fail(LOCAL.max_attempts)
    settings = webhooks.Settings(allow_http=True, allow_private=True, max_attempts=5, pause_after=50)
    for _ in range(settings.max_attempts):
        webhooks.deliver_due(db.session, clock.now(), _keys(app), settings)
        clock.advance(timedelta(hours=7))
    db.session.expire_all()
    [delivery] = _deliveries()
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempts == 5
    assert run(lambda: webhooks.replay(db.session, ours, delivery.id, clock.now())).ok
    assert webhooks.deliver_due(db.session, clock.now(), _keys(app), settings).delivered == 1
    assert webhook_receiver.processed == {delivery.uuid: 1}
    # A delivered one may be replayed too: the same id again (the receiver decides to ignore it or not).
    assert run(lambda: webhooks.replay(db.session, ours, delivery.id, clock.now())).ok
    webhooks.deliver_due(db.session, clock.now(), _keys(app), settings)
    assert webhook_receiver.processed == {delivery.uuid: 2}
    assert not run(lambda: webhooks.replay(db.session, ours, delivery.id + 999, clock.now())).ok


def test_repeated_failures_pause_the_subscription_and_its_owner_gets_an_e_mail(app, clock, rhone,
                                                                              webhook_receiver):  # noqa: F811
    request, _coordinator, ours, territory, other, _gendarmes = rhone
    app.config.update(RELAIS_WEBHOOKS_PAUSE_AFTER=3, RELAIS_WEBHOOKS_MAX_ATTEMPTS=10)
    run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now()))
    webhook_receiver.fail(1000)
    for _ in range(4):
        run(lambda: send_webhooks(db.session, clock.now()))
        clock.advance(timedelta(hours=1))
    db.session.expire_all()
    for subscription in (ours, territory):
        db.session.refresh(subscription)
        assert not subscription.active and subscription.paused_for_failures
    mails = db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.dedup_key.like("webhook-paused:%"))).all()
    assert sorted(m.recipient for m in mails) == sorted([ours.owner.email, territory.owner.email])
    assert "mis en pause" in mails[0].subject and str(ours.url) in (mails[0].body_text + mails[1].body_text)
    attempts = len(webhook_receiver.received)
    assert attempts == 6  # three each, then nothing more while paused
    run(lambda: send_webhooks(db.session, clock.now()))
    assert len(webhook_receiver.received) == attempts
    # Resumed once the receiver works again: the deliveries waiting go out, nothing was lost.
    webhook_receiver.fail(0)
    assert run(lambda: webhooks.resume(db.session, ours, clock.now())).ok
    run(lambda: send_webhooks(db.session, clock.now()))
    assert len(webhook_receiver.accepted()) == 1
    # Events of a paused subscription are kept for it.
    coordinator = rhone[1]
    run(lambda: lifecycle.accept(db.session, request, coordinator, clock.now()))
    assert [d.event for d in _deliveries(territory.id)] == ["request.submitted", "request.accepted"]


def test_a_claimed_delivery_is_not_claimed_twice(app, clock, rhone):
    request = rhone[0]
    run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now()))
    first = webhooks.claim_due(db.session, clock.now(), 10)
    assert len(first) == 2 and webhooks.claim_due(db.session, clock.now(), 10) == []
    # A worker that died: its lease runs out and the row is taken again.
    assert len(webhooks.claim_due(db.session, clock.now() + webhooks.CLAIM_LEASE, 10)) == 2


def test_the_secret_is_stored_encrypted_and_a_new_one_signs_the_next_deliveries(app, clock, rhone):
    ours = rhone[2]
    secret = webhooks.secret_of(ours, _keys(app))
    assert secret.startswith("whsec_") and secret not in ours.secret_encrypted
    webhooks.rotate_secret(ours, _keys(app), clock.now())
    assert webhooks.secret_of(ours, _keys(app)) != secret


def test_a_coordinator_subscribes_only_for_a_territory_of_their_scope(app, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    with pytest.raises(Refused) as refused:
        webhooks.subscribe(db.session, coordinator, "https://93.184.216.34/", ["request.submitted"], None,
                           _keys(app), STRICT, clock.now(), territory=("13", Force.POLICE))
    assert refused.value.code == "webhook_no_owner"
    with pytest.raises(Refused) as refused:
        webhooks.subscribe(db.session, coordinator, "https://93.184.216.34/", [], None, _keys(app), STRICT,
                           clock.now(), territory=("69", Force.POLICE))
    assert refused.value.code == "webhook_no_event"
    assert db.session.scalar(select(func.count(WebhookSubscription.id))) == 0


def test_two_workers_at_once_never_claim_the_same_delivery(app, clock, rhone):
    """SKIP LOCKED on PostgreSQL, the conditional UPDATE everywhere: each row goes to one worker."""
    import threading

    from sqlalchemy.orm import Session

    ours = rhone[2]
    for number in range(40):
        db.session.add(WebhookDelivery(uuid=f"20000000-0000-4000-8000-{number:012d}", subscription_id=ours.id,
                                       event="request.accepted", payload="{}", occurred_at=clock.now(),
                                       created_at=clock.now(), next_attempt_at=clock.now()))
    db.session.commit()
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def worker(index: int) -> None:
        with app.app_context(), Session(db.engine) as session:
            barrier.wait()
            # Until nothing is left: a round lost to the other worker (SQLite's conditional UPDATE) claims fewer.
            for _ in range(60):
                rows = webhooks.claim_due(session, clock.now(), 3)
                if not rows:
                    break
                claimed[index] += [row.id for row in rows]

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == sorted(d.id for d in _deliveries())


def test_a_report_filed_reaches_the_coordination_with_its_figures_and_the_establishment_without(app, clock,
                                                                                                 rhone):
    from app.domain import reports

    request, coordinator, ours, territory, _other, _gendarmes = rhone
    run(lambda: lifecycle.submit(db.session, request, request.created_by, clock.now()))
    run(lambda: lifecycle.accept(db.session, request, coordinator, clock.now()))
    intervention = request.interventions[0]
    trainer = make_qualified_trainer()
    db.session.commit()
    run(lambda: offers.assign_directly(db.session, intervention, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1),
                                       coordinator, clock.now()))
    clock.freeze(MONDAY_9 + timedelta(hours=3))
    data = reports.ReportData(held=True, people_present=24, pupils=22, staff=2, topic_codes=("cannabis",),
                              remarks="Classe agitée, M. Dupont absent")
    assert run(lambda: reports.save_report(db.session, intervention, trainer, data, trainer.user, clock.now())).ok
    [for_school] = [d for d in _deliveries(ours.id) if d.event == "report.filed"]
    [for_territory] = [d for d in _deliveries(territory.id) if d.event == "report.filed"]
    assert json.loads(for_territory.payload)["data"]["report"] == {
        "id": intervention.reports[0].id, "held": True, "people_present": 24, "not_held_code": None}
    assert "report" not in json.loads(for_school.payload)["data"]
    assert "Dupont" not in for_school.payload + for_territory.payload
    assert json.loads(for_school.payload)["data"]["session"]["status"] == "done"
