"""What one person types is shown to the others as text, never as markup: every free field holds hostile text,
and every page of every role stays inert (issue #17, "a security suite")."""

from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import select, update
from werkzeug.routing import IntegerConverter

from app.domain.briefing import OSM_DIRECTIONS
from app.extensions import db
from app.models import (
    AvailabilityException,
    Establishment,
    InterventionRequest,
    JoinRequest,
    Role,
    SessionReport,
    Trainer,
    Unit,
    User,
)
from tests.helpers import SKIPPED_ENDPOINTS, login, switch_to
from tests.security.helpers import HOSTILE, World

SHORT = '<img src="https://evil.example/s">'  # for the short columns (ranks, phones)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


def every_page(app, world: World) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or "GET" not in rule.methods or rule.arguments - {
                name for name in rule.arguments if isinstance(rule._converters[name], IntegerConverter)}:
            continue  # pages behind a token or a file name are reached by their own tests
        ids = {name: world.ours_all.get(name, [1]) for name in rule.arguments}
        for index in range(max((len(values) for values in ids.values()), default=1)):
            urls.append(rule.build({name: ids[name][min(index, len(ids[name]) - 1)] for name in rule.arguments},
                                   append_unknown=False)[1])
    return urls



def is_itinerary(value: str | None) -> bool:
    """A trainer's itinerary link: OpenStreetMap's address, the typed place only as its percent-encoded query (a
    place to go to, not a link: no quote, bracket or space left in it)."""
    return bool(value) and value.startswith(f"{OSM_DIRECTIONS}?to=") and not set(value) & set("<>\"' ")

def test_every_page_shows_other_people_s_text_as_text(app, client, world: World):
    for model, columns in ((Establishment, ("name", "address", "commune_name")),
                           (InterventionRequest, ("place", "room", "equipment", "contact_name", "notes",
                                                  "refusal_reason", "cancel_reason")),
                           (User, ("full_name",)), (JoinRequest, ("message",)), (SessionReport, ("remarks",)),
                           (AvailabilityException, ("reason",))):
        db.session.execute(update(model).values({column: HOSTILE for column in columns}))
    for unit in db.session.scalars(select(Unit)):
        unit.name = f"{HOSTILE} {unit.id}"  # unit names are unique
    db.session.execute(update(Trainer).values(rank=SHORT, languages=HOSTILE))
    db.session.commit()
    people = [world.people[role] for role in Role] + [world.newcomer]
    shown = 0
    for number, person in enumerate(people):
        (switch_to if number else login)(client, person)
        for url in every_page(app, world):
            response = client.get(url)
            assert response.status_code < 500, f"{person.role} {url}: {response.status_code}"
            if response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            shown += html.count("&lt;a href=")
            parser = Tags()
            parser.feed(html)
            for tag, attributes in parser.tags:
                # A form field may hold the text as its value; no link, source or handler may come from it.
                live = {name: value for name, value in attributes.items()
                        if (name in ("href", "src", "action", "formaction", "srcset", "style") or name.startswith("on"))
                        and not is_itinerary(value)}
                assert not any("evil.example" in (value or "") for value in live.values()), (url, tag, live)
                assert "onmouseover" not in attributes, (url, tag)
                assert tag != "script" or (attributes.get("src") or "").startswith("/"), (url, tag)  # ours only
    assert shown > 50, "the pages show the hostile text (escaped) in many places"


def test_a_stored_text_shaped_like_relais_own_words_keeps_its_parameters_inert(app):
    """`stored_text` translates a text Relais wrote (« Formateur parti n° %(number)s »); what it finds in the
    parameter's place may be what someone typed, so the page shows it as text, in either language."""
    from flask import render_template_string
    from flask_babel import force_locale

    from app.domain.retention import ANONYMISED_TRAINER
    from app.domain.vocabulary import stored_text

    stored = ANONYMISED_TRAINER % {"number": HOSTILE}
    for locale in ("fr", "en"):
        with app.test_request_context(), force_locale(locale):
            shown = render_template_string("{{ stored_text(text) }}", text=stored)
            assert "<script" not in shown.lower() and "&lt;" in shown
            parser = Tags()
            parser.feed(shown)
            assert parser.tags == []
    with app.test_request_context(), force_locale("en"):
        assert str(stored_text(stored)).startswith("Departed trainer")
