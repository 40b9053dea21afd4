"""The outbox: messages written with the change, delivered over real SMTP, never lost or doubled."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.domain.mail import MAX_ATTEMPTS, SmtpTransport, deliver_pending, queue_email, retry_message
from app.extensions import db
from app.models import MessageStatus, OutgoingMessage

SENDER = "Relais <no-reply@relais.test>"


def _queue(clock, **extra):
    message = queue_email(db.session, recipient="chef@college.fr", subject="Objet é", body_text="Corps accentué",
                          body_html="<p>Corps</p>", now=clock.now(), **extra)
    db.session.commit()
    return message


def test_pending_message_is_delivered_once_over_smtp(app, clock, smtp_server):
    _queue(clock)
    transport = SmtpTransport("127.0.0.1", smtp_server.port)
    assert deliver_pending(db.session, transport, SENDER, clock.now()) == (1, 0)
    assert deliver_pending(db.session, transport, SENDER, clock.now()) == (0, 0)
    assert len(smtp_server.handler.messages) == 1
    received = smtp_server.handler.messages[0]
    assert received["Subject"] == "Objet é"
    assert received.get_body(preferencelist=("plain",)).get_content().strip() == "Corps accentué"
    assert db.session.scalar(select(OutgoingMessage.status)) is MessageStatus.SENT


def test_calendar_part_and_attachment(app, clock, smtp_server):
    calendar = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    _queue(clock, calendar=calendar, calendar_method="REQUEST")
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())
    received = smtp_server.handler.messages[0]
    parts = {part.get_content_type(): part for part in received.walk()}
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    assert "application/ics" in parts


def test_smtp_outage_keeps_the_message_and_retries_with_backoff(app, clock, smtp_server):
    _queue(clock)
    closed = SmtpTransport("127.0.0.1", 9, timeout=2)  # nothing listens on the discard port
    assert deliver_pending(db.session, closed, SENDER, clock.now()) == (0, 1)
    message = db.session.scalar(select(OutgoingMessage))
    assert message.status is MessageStatus.PENDING and message.attempts == 1 and message.last_error
    working = SmtpTransport("127.0.0.1", smtp_server.port)
    assert deliver_pending(db.session, working, SENDER, clock.now()) == (0, 0)  # backing off
    clock.advance(timedelta(minutes=5))
    assert deliver_pending(db.session, working, SENDER, clock.now()) == (1, 0)
    assert len(smtp_server.handler.messages) == 1


def test_message_fails_after_max_attempts_and_admin_can_retry(app, clock, smtp_server):
    _queue(clock)
    closed = SmtpTransport("127.0.0.1", 9, timeout=2)
    for _ in range(MAX_ATTEMPTS):
        deliver_pending(db.session, closed, SENDER, clock.now())
        clock.advance(timedelta(hours=5))
    message = db.session.scalar(select(OutgoingMessage))
    assert message.status is MessageStatus.FAILED
    assert retry_message(db.session, message.id, clock.now())
    db.session.commit()
    assert deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now()) == (1, 0)


def test_a_worker_that_died_mid_send_leaves_the_message_claimable_later(app, clock, smtp_server):
    from app.domain.mail import claim_due_messages

    _queue(clock)
    assert len(claim_due_messages(db.session, clock.now(), 10)) == 1  # claimed, then the worker "dies"
    assert claim_due_messages(db.session, clock.now(), 10) == []
    clock.advance(timedelta(minutes=11))
    assert deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now()) == (1, 0)


def test_dedup_key_writes_a_message_once(app, clock):
    assert _queue(clock, dedup_key="rappel:42") is not None
    assert queue_email(db.session, recipient="x@y.fr", subject="s", body_text="b", dedup_key="rappel:42",
                       now=clock.now()) is None


def test_every_attempt_at_a_message_carries_its_date_and_the_same_message_id(app, clock, smtp_server):
    """A relay that stored the message but dropped the connection gets it again: with the same Message-ID, so
    that mail systems keep one copy (issue #17, point 18; RFC 5322 §3.6 for Date)."""
    from email.utils import parsedate_to_datetime

    from app.domain.mail import build_mime

    message = _queue(clock)
    first, second = build_mime(message, SENDER, clock.now()), build_mime(message, SENDER, clock.now())
    assert first["Message-ID"] == second["Message-ID"] and first["Message-ID"].endswith("@relais.test>")
    other = _queue(clock)
    assert build_mime(other, SENDER, clock.now())["Message-ID"] != first["Message-ID"]
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())
    received = smtp_server.handler.messages
    assert parsedate_to_datetime(received[0]["Date"]) == clock.now().replace(microsecond=0)
    assert {m["Message-ID"] for m in received} == {first["Message-ID"], build_mime(other, SENDER, clock.now())[
        "Message-ID"]}


def test_a_worker_claims_each_message_just_before_sending_it(app, clock):
    """A slow round never holds messages it has not started: another worker takes the next ones meanwhile, and
    never the one being sent (its lease starts when it is claimed)."""
    from app.domain.mail import claim_due_messages

    ids = [_queue(clock).id for _ in range(3)]
    seen_by_the_other: list[list[int]] = []

    class SlowRelay:
        def send(self, mime) -> None:
            with app.app_context():  # another worker, its own session and connection
                other = db.session
                seen_by_the_other.append([m.id for m in claim_due_messages(other, clock.now(), 10)])
                other.remove()

    assert deliver_pending(db.session, SlowRelay(), SENDER, clock.now(), limit=3) == (1, 0)
    # While the first message was being sent, the other worker took the two others, not the first one.
    assert seen_by_the_other == [ids[1:]]


# RFC 5322 §3.3: day-name "," day month year time zone, the zone a numeric offset.
RFC5322_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                          r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
MESSAGE_ID = re.compile(r"^<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)>$")


def test_date_and_message_id_over_smtp_are_valid_and_under_a_real_domain(app, clock, smtp_server):
    """Every message carries a Date and a Message-ID (RFC 5322 §3.6) that relays and filters accept: the domain is
    the sender's, or the public address's host when the sender has none, never a made-up one (issue #19, point 1).
    """
    transport = SmtpTransport("127.0.0.1", smtp_server.port)
    _queue(clock)
    deliver_pending(db.session, transport, "Relais <relais@mail.interieur.exemple.fr>", clock.now(),
                    base_host="relais.interieur.exemple.fr")
    _queue(clock)
    deliver_pending(db.session, transport, "Relais <relais>", clock.now(), base_host="relais.interieur.exemple.fr")
    _queue(clock)
    deliver_pending(db.session, transport, "Relais <no-reply@relais.localhost>", clock.now(),
                    base_host="relais.education.exemple.fr")
    received = smtp_server.handler.messages
    assert len(received) == 3
    domains = []
    for message in received:
        assert RFC5322_DATE.match(message["Date"]), message["Date"]
        match = MESSAGE_ID.match(message["Message-ID"])
        assert match, message["Message-ID"]
        domains.append(match.group(1))
    assert domains == ["mail.interieur.exemple.fr", "relais.interieur.exemple.fr", "relais.education.exemple.fr"]
    assert "relais.localhost" not in str(domains)


def test_the_deliver_command_takes_the_message_id_domain_from_the_public_address(app, clock, smtp_server, runner):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                      MAIL_DEFAULT_SENDER="Relais <relais>", RELAIS_BASE_URL="https://relais.interieur.exemple.fr:8443")
    _queue(clock)
    result = runner.invoke(args=["deliver", "--once"])
    assert result.exit_code == 0, result.output
    [message] = smtp_server.handler.messages
    assert message["Message-ID"].endswith("@relais.interieur.exemple.fr>")


def test_reply_to_is_written_when_the_outbox_row_has_one(app, clock, smtp_server):
    _queue(clock, reply_to="coordination-pfad-69@interieur.exemple.fr")
    _queue(clock)
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())
    first, second = smtp_server.handler.messages
    assert first["Reply-To"] == "coordination-pfad-69@interieur.exemple.fr" and second["Reply-To"] is None


def test_a_long_accented_subject_keeps_every_space_when_folded(app, clock, smtp_server):
    """Python 3.11's header folder drops the space between two RFC 2047 words where it folds a line: « Collège n°60 »
    arrived as « Collègen°60 ». The subject is folded by email.header.Header instead, in words of 75 characters."""
    subjects = ["[Relais] Vous n'êtes plus attendu : Collège n°60",
                "[Relais] Mise à jour : Lycée professionnel Marie-Curie de Saint-Étienne — « Groupe 2 », très loin",
                "[Relais] Plain subject"]
    for subject in subjects:
        queue_email(db.session, recipient="chef@college.fr", subject=subject, body_text="Corps", now=clock.now())
    db.session.commit()
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())
    assert sorted(m["Subject"] for m in smtp_server.handler.messages) == sorted(subjects)
    for raw in smtp_server.handler.raw:
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert all(len(word) <= 75 for word in re.findall(r"=\?[^?]+\?[bqBQ]\?[^?]*\?=", head))
        assert all(len(line) <= 78 for line in head.split("\r\n"))
