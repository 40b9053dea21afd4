"""The one unit of work (app.unit_of_work) and the refusals it reports (app.domain.refusals)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain import lifecycle
from app.domain.changes import Change, Notice
from app.domain.refusals import MESSAGES, Refused, message_for
from app.extensions import db
from app.models import InterventionRequest, OutgoingMessage, RequestEvent, RequestStatus
from app.unit_of_work import run
from tests.factories import make_coordinator, make_request

APP = Path(__file__).resolve().parent.parent.parent / "app"


def outbox_count() -> int:
    return db.session.scalar(select(func.count(OutgoingMessage.id)))


def test_a_change_is_saved_with_its_e_mails(app, clock):
    item = make_request(status="draft")
    make_coordinator("69")
    db.session.commit()
    item_id = item.id
    outcome = run(lambda: lifecycle.submit(db.session, item, item.created_by, clock.now()))
    assert outcome.ok and isinstance(outcome.value, Change)
    db.session.remove()  # what another request would read: committed
    saved = db.session.get(InterventionRequest, item_id)
    assert saved.status is RequestStatus.SUBMITTED
    [message] = db.session.scalars(select(OutgoingMessage)).all()
    assert message.subject == "[Relais] Nouvelle demande d'intervention à examiner"


def test_a_refusal_rolls_back_everything_the_operation_wrote_and_says_why(app, clock):
    item = make_request(status="submitted")
    coordinator = make_coordinator("69")
    db.session.commit()
    events = db.session.scalar(select(func.count(RequestEvent.id)))

    def half_done():
        lifecycle.record_edit(db.session, item, item.created_by, clock.now())  # writes an "edited" event
        return lifecycle.submit(db.session, item, item.created_by, clock.now())  # already submitted: refused

    outcome = run(half_done)
    assert not outcome.ok and outcome.refusal.code == "request_not_draft"
    assert outcome.message() == "Cette demande a déjà été envoyée."
    assert db.session.scalar(select(func.count(RequestEvent.id))) == events
    assert outbox_count() == 0
    # The same unit of work goes on working after a refusal.
    assert run(lambda: lifecycle.accept(db.session, item, coordinator, clock.now())).ok
    assert db.session.get(InterventionRequest, item.id).status is RequestStatus.IN_PLANNING


def test_an_error_rolls_back_and_propagates(app, clock):
    item = make_request(status="draft")
    db.session.commit()

    def broken():
        lifecycle.submit(db.session, item, item.created_by, clock.now())
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        run(broken)
    assert db.session.get(InterventionRequest, item.id).status is RequestStatus.DRAFT


def test_a_result_carrying_a_change_has_its_e_mails_queued(app, clock):
    item = make_request(status="draft")
    db.session.commit()

    class Result:
        def __init__(self, change):
            self.change = change

    outcome = run(lambda: Result(Change([Notice(item.created_by, "accepted", item)])))
    assert outcome.ok and outbox_count() == 1


def test_every_refusal_raised_by_the_app_has_a_message_and_no_message_is_orphaned():
    raised = set()
    for path in APP.rglob("*.py"):
        raised |= set(re.findall(r'Refused\("([a-z_]+)"\)', path.read_text(encoding="utf-8")))
        raised |= set(re.findall(r'_move\(session, request, [^"]*?"([a-z_]+)"', path.read_text(encoding="utf-8")))
        raised |= set(re.findall(r'super\(\).__init__\("([a-z_]+)"\)', path.read_text(encoding="utf-8")))
    assert raised, "no refusal found: the pattern is out of date"
    assert raised <= set(MESSAGES), f"refused without a message: {raised - set(MESSAGES)}"
    assert set(MESSAGES) <= raised, f"messages nothing refuses with: {set(MESSAGES) - raised}"


def test_a_refusal_code_must_exist_and_a_page_may_word_it_its_own_way():
    with pytest.raises(ValueError):
        Refused("no_such_reason")
    refusal = Refused("trainer_busy")
    assert message_for(refusal) == str(MESSAGES["trainer_busy"])
    assert message_for(refusal, {"trainer_busy": "Vous êtes déjà pris."}) == "Vous êtes déjà pris."
