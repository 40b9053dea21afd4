"""Statuses are written one way everywhere: the tables of app.labels, never a code or a second wording."""

from __future__ import annotations

from app.calendars.forms import EXPORT_STATUSES
from app.extensions import db
from app.labels import INTERVENTION_STATUS, MESSAGE_STATUS
from app.models import InterventionStatus, MessageStatus, OutgoingMessage, Role
from tests.factories import make_user
from tests.helpers import login


def test_the_export_filter_names_states_as_the_session_pages_do(app):
    with app.test_request_context("/"):
        named = {code: str(label) for code, label in EXPORT_STATUSES}
        assert named == {status.value: str(INTERVENTION_STATUS[status][0]) for status in (
            InterventionStatus.CONFIRMED, InterventionStatus.OFFERED, InterventionStatus.DONE,
            InterventionStatus.NOT_HELD, InterventionStatus.CANCELLED)}
        assert named["confirmed"] == "Confirmée"


def test_the_outbox_says_each_message_s_state_in_words_not_its_code(app, client):
    assert set(MESSAGE_STATUS) == {status.value for status in MessageStatus}
    db.session.add(OutgoingMessage(recipient="a@example.org", subject="Essai", body_text="…",
                                   status=MessageStatus.FAILED, last_error="refusé"))
    db.session.commit()
    login(client, make_user(Role.ADMIN))
    page = client.get("/admin/messages").get_data(as_text=True)
    row = page[page.index("a@example.org"):].split("</tr>")[0]
    assert "<td>En échec</td>" in row and "failed" not in row.replace("statut=failed", "")
    assert 'href="/admin/messages?statut=failed">En échec (1)</a>' in page
