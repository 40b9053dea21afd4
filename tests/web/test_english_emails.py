"""E-mails to English readers carry no French leftover (#18): on the demo data with every account in English, the
periodic jobs and the offers' cascade write their e-mails, and no French label of the application is in them."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.domain.clock import utcnow
from app.extensions import db
from app.jobs import run_periodic_jobs
from app.models import User
from app.models.outbox import OutgoingMessage
from tests.factories import load_demo_data
from tests.french_labels import french_labels, label_patterns, leftovers, texts_people_wrote


def test_english_readers_get_their_emails_without_french_leftovers(app):
    today = utcnow().date()
    load_demo_data(seed=7, today=today)
    db.session.execute(update(User).values(language="en"))
    db.session.execute(delete(OutgoingMessage))
    db.session.commit()
    with app.test_request_context():
        run_periodic_jobs(db.session, utcnow())
    messages = db.session.scalars(select(OutgoingMessage)).all()
    subjects = {message.subject for message in messages}
    print(len(messages), "e-mails:", *sorted(subjects), sep="\n  ")
    assert len(subjects) >= 3, subjects
    patterns, written = label_patterns(french_labels()), texts_people_wrote(subjects=False)
    found = {}
    for message in messages:
        text = "\n".join(filter(None, (message.subject, message.body_text)))
        if words := leftovers(text, patterns, written):
            found[message.subject] = words
    assert not found, "French in English e-mails:\n" + "\n".join(f"{subject}: {sorted(words)}"
                                                                 for subject, words in found.items())
