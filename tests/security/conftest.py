"""The security suite's world: two territories, "ours" (Rhône, police), where the accounts under test live, and
"theirs" (Bouches-du-Rhône, gendarmerie), whose objects those accounts must never reach."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.access_tokens import create_token
from app.domain.login_sessions import Lifetimes, open_session
from app.extensions import db
from app.models import (
    AutopilotProposal,
    AutopilotProposalItem,
    AvailabilityException,
    CalendarConnection,
    CalendarPush,
    ConnectionState,
    ExceptionKind,
    Force,
    JoinRequest,
    MessageStatus,
    OutgoingMessage,
    PushAction,
    PushStatus,
    RequestStatus,
    Role,
    SessionReport,
    TokenScope,
)
from tests.factories import (
    MONDAY_9,
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_offer,
    make_qualified_trainer,
    make_request,
    make_trainer,
    make_user,
)
from tests.security.helpers import World


@pytest.fixture
def world(app, clock) -> World:
    # Theirs: Bouches-du-Rhône, gendarmerie.
    their_school = make_establishment("13", force=Force.GENDARMERIE)
    their_requester = make_user(Role.REQUESTER, establishment_id=their_school.id)
    their_request = make_request(their_school, their_requester, status="in_planning", group_count=2)
    their_trainer = make_trainer("13", Force.GENDARMERIE)
    given = make_assigned_session(their_trainer, clock.now() - timedelta(days=3), establishment=their_school)
    report = SessionReport(intervention_id=given.id, trainer_id=their_trainer.id, author_id=their_trainer.user_id,
                           held=True, people_present=20, editable_until=clock.now() + timedelta(days=30))
    offered = make_assigned_session(their_trainer, MONDAY_9, status="offered", establishment=their_school)
    leave = AvailabilityException(trainer_id=their_trainer.id, kind=ExceptionKind.UNAVAILABLE,
                                  starts_at=MONDAY_9, ends_at=MONDAY_9 + timedelta(days=2))
    newcomer = make_user(Role.REQUESTER)
    join = JoinRequest(establishment_id=their_school.id, user_id=newcomer.id, message="Bonjour")
    unconfirmed = make_establishment("13", force=Force.GENDARMERIE, confirmed_at=None)
    failed = OutgoingMessage(recipient="parti@exemple.fr", subject="[Relais] Rappel", body_text="…",
                             status=MessageStatus.FAILED, attempts=8, created_at=clock.now(),
                             next_attempt_at=clock.now())
    db.session.add_all([report, leave, join, failed])
    make_coordinator("13", Force.GENDARMERIE)
    # Ours: Rhône, police, with something in every state a page shows a form for.
    our_school = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=our_school.id)
    coordinator = make_coordinator("69")
    our_request = make_request(our_school, requester, status="in_planning", group_count=2)
    submitted = make_request(our_school, requester, status="submitted")
    draft = make_request(our_school, requester, status="draft")
    trainer = make_qualified_trainer()
    make_qualified_trainer()  # a second candidate for the session still to staff
    our_offer = make_offer(our_request.interventions[0], trainer, clock.now()).notices[0].assignment
    past = make_assigned_session(trainer, clock.now() - timedelta(days=2), establishment=our_school)
    past.request.created_by_id = requester.id
    past.request.status = RequestStatus.CONFIRMED
    our_report = SessionReport(intervention_id=past.id, trainer_id=trainer.id, author_id=trainer.user_id, held=True,
                               people_present=20, editable_until=clock.now() - timedelta(days=1))
    coming = make_assigned_session(trainer, MONDAY_9 + timedelta(days=7), establishment=our_school)
    coming.request.status = RequestStatus.CONFIRMED
    our_leave = AvailabilityException(trainer_id=trainer.id, kind=ExceptionKind.UNAVAILABLE,
                                      starts_at=MONDAY_9 + timedelta(days=20), ends_at=MONDAY_9 + timedelta(days=21))
    newcomer = make_user(Role.REQUESTER)
    joining = JoinRequest(establishment_id=our_school.id, user_id=make_user(Role.REQUESTER).id, message="Bonjour")
    empty_school = make_establishment("69", force=Force.POLICE)
    orphan = JoinRequest(establishment_id=empty_school.id, user_id=make_user(Role.REQUESTER).id, message="Bonjour")
    registered = make_establishment("69", force=Force.POLICE, confirmed_at=None)
    # The offers Relais proposes to each coordination (the autopilot, #20).
    their_proposal = AutopilotProposal(departement_code="13", force=Force.GENDARMERIE, fingerprint="leur-plan", items=[
        AutopilotProposalItem(intervention_id=their_request.interventions[1].id, trainer_id=their_trainer.id,
                              starts_at=MONDAY_9, km=2.0)])
    our_proposal = AutopilotProposal(departement_code="69", force=Force.POLICE, fingerprint="notre-plan", items=[
        AutopilotProposalItem(intervention_id=our_request.interventions[1].id, trainer_id=trainer.id,
                              starts_at=MONDAY_9 + timedelta(days=1), km=2.0)])
    db.session.add_all([our_report, our_leave, joining, orphan, their_proposal, our_proposal])
    # Each side's trainer writes to a CalDAV calendar, with a session changed there that waits for a decision.
    their_push = _calendar_with_a_conflict(their_trainer.user, given, clock.now())
    our_push = _calendar_with_a_conflict(trainer.user, coming, clock.now())
    people = {Role.REQUESTER: requester, Role.TRAINER: trainer.user, Role.COORDINATOR: coordinator,
              Role.ADMIN: make_user(Role.ADMIN)}
    # Someone else's log-in (their requester, on their own device), and a second device of each of ours.
    _token, their_login = open_session(db.session, their_requester, clock.now(), Lifetimes(), remember=False)
    mine = [open_session(db.session, person, clock.now(), Lifetimes(), remember=True)[1] for person in people.values()]
    # A personal access token of the API (#22) for each of ours, and one of theirs.
    their_token = create_token(db.session, their_requester, "Leur tableur", TokenScope.READ, clock.now()).token
    our_tokens = [create_token(db.session, person, "Mon tableur", TokenScope.READ_WRITE, clock.now()).token
                  for person in people.values()]
    db.session.commit()
    theirs = {"request_id": their_request.id, "intervention_id": their_request.interventions[0].id,
              "assignment_id": offered.assignments[0].id, "trainer_id": their_trainer.id, "report_id": report.id,
              "join_id": join.id, "exception_id": leave.id, "establishment_id": unconfirmed.id,
              "session_id": their_login, "message_id": failed.id, "unit_id": their_trainer.unit_id,
              "proposal_id": their_proposal.id, "push_id": their_push.id, "token_id": their_token.id}
    ours = {**theirs, "request_id": our_request.id, "intervention_id": our_request.interventions[0].id,
            "assignment_id": our_offer.id, "trainer_id": trainer.id, "unit_id": trainer.unit_id,
            "proposal_id": our_proposal.id, "push_id": our_push.id, "token_id": our_tokens[0].id}
    ours_all = {**{name: [value] for name, value in ours.items()},
                # Index by index, a request and one of its sessions (routes with both take the pair).
                "request_id": [our_request.id, our_request.id, past.request_id, coming.request_id, submitted.id,
                               draft.id],
                "intervention_id": [our_request.interventions[1].id, our_request.interventions[0].id, past.id,
                                    coming.id, past.id, past.id],
                "report_id": [our_report.id], "join_id": [joining.id, orphan.id], "exception_id": [our_leave.id],
                "establishment_id": [registered.id], "session_id": mine,
                "token_id": [token.id for token in our_tokens]}
    # Each side's webhook subscription, with a failed delivery in its log (#22), and our coordination's.
    their_hook, their_delivery = _webhook(their_requester, None, clock.now())
    our_hook, our_delivery = _webhook(requester, None, clock.now())
    territory_hook, _ = _webhook(coordinator, ("69", Force.POLICE), clock.now())
    paused_hook, _ = _webhook(requester, None, clock.now())
    paused_hook.active = False
    paused_hook.paused_at = clock.now()
    db.session.commit()
    theirs |= {"subscription_id": their_hook.id, "delivery_id": their_delivery.id}
    ours |= {"subscription_id": our_hook.id, "delivery_id": our_delivery.id}
    ours_all |= {"subscription_id": [our_hook.id, territory_hook.id, paused_hook.id], "delivery_id": [our_delivery.id]}
    return World(people, theirs, ours, ours_all, newcomer)


def _calendar_with_a_conflict(user, intervention, now) -> CalendarPush:
    """A connected CalDAV calendar (a server nobody reaches: the worker does not run here) and one session
    changed in it since Relais wrote it, which the page offers to replace."""
    from flask import current_app

    from app.domain.caldav_push import keys_from

    server = "https://agenda.exemple.fr/dav/"
    connection = CalendarConnection(user=user, server_url=server, username=user.email, calendar_name="Personnel",
                                    password_encrypted=keys_from(current_app.config).encrypt(b"appli").decode(),
                                    calendar_url=server + "personnel/", state=ConnectionState.ACTIVE,
                                    created_at=now - timedelta(days=10), last_success_at=now - timedelta(days=1))
    db.session.add(connection)
    db.session.flush()
    push = CalendarPush(connection_id=connection.id, intervention_id=intervention.id, uid=intervention.ical_uid,
                        action=PushAction.PUT, calendar="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                        status=PushStatus.CONFLICT, attempts=1, next_attempt_at=now, updated_at=now,
                        last_error="412")
    db.session.add(push)
    db.session.flush()
    return push


def _webhook(owner, territory, now):
    """A subscription (to a public address nobody reaches: the worker does not run here) and a failed delivery."""
    from flask import current_app

    from app.domain import caldav_push, webhooks
    from app.models import DeliveryStatus, WebhookDelivery

    subscription = webhooks.subscribe(db.session, owner, "https://93.184.216.34/relais", list(webhooks.EVENTS), "Outil",
                                      caldav_push.keys_from(current_app.config), webhooks.Settings(), now,
                                      territory=territory)
    delivery = WebhookDelivery(uuid=f"{subscription.id:08d}-0000-4000-8000-000000000000",
                               subscription_id=subscription.id, event="request.submitted", payload="{}",
                               occurred_at=now, created_at=now, status=DeliveryStatus.FAILED, attempts=10,
                               next_attempt_at=now, response_status=500, error=None)
    db.session.add(delivery)
    db.session.flush()
    return subscription, delivery
