"""A bounded property-based fuzz of every form (Hypothesis): whatever is typed into any field of any form of any
page, for every role, the answer is never a 5xx (issue #17, "a security suite").

Each form is found the way a person finds it: on the pages their role reaches, in the HTML. Its fields are
filled from strategies that suit their type (text of any Unicode, hostile markup, numbers and dates far out of
range, choices outside the list, files of random bytes), sometimes left out. RELAIS_FUZZ_EXAMPLES sets the
examples per form (default 200 here, CI's run; `RELAIS_FUZZ_EXAMPLES=2000 make test` before a release)."""

from __future__ import annotations

import io
import os
import re
from datetime import date, time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter

from app import create_app
from app.models import Role
from tests.helpers import SKIPPED_ENDPOINTS, login, post_form, switch_to
from tests.security.helpers import World

EXAMPLES = int(os.environ.get("RELAIS_FUZZ_EXAMPLES", "200"))
HOSTILE = ["<script>alert(1)</script>", "=HYPERLINK(\"http://evil.example\")", "' OR 1=1 --", "\x00", "\u202e",
           "9999-12-31", "0001-01-01", "-1", str(2**63), "", " ", "\u2028", "é" * 5000, "../../etc/passwd",
           "%00", "\r\nBcc: x@evil.example"]
# POST actions that no page shows as a form to fill in (reached by other tests).
WITHOUT_A_FORM: set[str] = {
    # The second step of a coordinator's password sign-in shows only after the password (tests/web/test_two_factor.py
    # fuzzes its code field).
    "auth.second_factor", "auth.enrol_second_factor",
}


def _post_endpoints() -> list[str]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    # The API's JSON bodies are no forms: tests/api/test_openapi.py fuzzes them (Schemathesis).
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.endpoint not in SKIPPED_ENDPOINTS and "POST" in rule.methods
                   and not rule.rule.startswith("/api/")})


class Forms(HTMLParser):
    """The forms of a page: action, method and fields (name → kind, options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "method": (attributes.get("method") or
                                                                                  "get").lower(), "fields": {}})
        elif not self.forms:
            return
        elif tag in ("input", "textarea", "button") and attributes.get("name"):
            kind = attributes.get("type", "text") if tag == "input" else ("textarea" if tag == "textarea" else "submit")
            field = self.forms[-1]["fields"].setdefault(attributes["name"], {"kind": kind, "options": []})
            if kind in ("checkbox", "radio", "submit", "hidden") and attributes.get("value") is not None:
                field["options"].append(attributes["value"])
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self.forms[-1]["fields"][self._select] = {"kind": "select", "options": [],
                                                      "multiple": "multiple" in attributes}
        elif tag == "option" and self._select:
            self.forms[-1]["fields"][self._select]["options"].append(attributes.get("value", ""))

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None


def value_strategy(field: dict) -> st.SearchStrategy:
    any_text = st.one_of(st.text(max_size=200), st.sampled_from(HOSTILE))
    kind, options = field["kind"], field["options"]
    if kind == "number":
        return st.one_of(st.integers(-10**15, 10**15).map(str), any_text)
    if kind == "date":
        return st.one_of(st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat), any_text)
    if kind == "time":
        return st.one_of(st.times(time(0), time(23, 59)).map(lambda t: t.strftime("%H:%M")), any_text)
    if kind in ("select", "checkbox", "radio") and options:
        return st.one_of(st.sampled_from(options), any_text)
    if kind == "file":
        return st.binary(max_size=4000).map(lambda data: (io.BytesIO(data), "fichier.csv"))
    return any_text


def form_data(fields: dict, token: str) -> st.SearchStrategy:
    """Each field present or not, with a value of its kind; the CSRF token stays valid (the attacker's own)."""
    submits = [name for name, field in fields.items() if field["kind"] == "submit"]
    parts = {}
    for name, field in fields.items():
        if name == "csrf_token" or field["kind"] == "submit":
            continue
        parts[name] = st.one_of(st.none(), value_strategy(field))
    return st.tuples(st.fixed_dictionaries(parts), st.sampled_from(submits or [None])).map(
        lambda pair: {**{k: v for k, v in pair[0].items() if v is not None}, "csrf_token": token,
                      **({pair[1]: "1"} if pair[1] else {})})


def pages_for(app, world: World) -> list[str]:
    """Every page a GET reaches, once for each of the person's objects in a different state (the forms differ)."""
    urls = ["/planification/?date_from=2027-01-04&date_to=2027-01-29&departement=69&force=police",
            "/admin/coordinations/69/police"]  # its arguments are a département's code and a force, not ids
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or "GET" not in rule.methods or rule.endpoint == "calendars.feed":
            continue
        ids = {name: world.ours_all.get(name, [1]) for name in rule.arguments
               if isinstance(rule._converters[name], IntegerConverter)}
        for index in range(max((len(values) for values in ids.values()), default=1)):
            values = {name: ids[name][min(index, len(ids[name]) - 1)] if name in ids else "fr"
                      for name in rule.arguments}
            urls.append(rule.build(values, append_unknown=False)[1])
    return urls


def token_pages(app, world: World) -> list[str]:
    """The pages opened from an e-mail's link, with a valid token of someone's: a reset, an activation, a new
    address to confirm."""
    from app.domain import tokens
    from app.domain.clock import utcnow
    from app.domain.email_change import confirmation_token
    from app.extensions import db
    from tests.factories import make_user

    secret = app.config["SECRET_KEY"]
    person = world.people[Role.REQUESTER]
    invited = make_user(Role.REQUESTER, activated=False)
    db.session.commit()
    reset = tokens.make_token(secret, tokens.PASSWORD_RESET, person.id, person.password_hash, person.email)
    return [f"/compte/nouveau-mot-de-passe/{reset}",
            f"/compte/activer/{tokens.make_token(secret, tokens.ACTIVATION, invited.id, None, invited.email)}",
            f"/compte/nouvelle-adresse/{confirmation_token(secret, person, 'nouvelle@exemple.fr', utcnow())}"]


def endpoint_of(app, action: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(urlsplit(action).path, method=method.upper())[0]
    except (NotFound, MethodNotAllowed):
        return None


@pytest.mark.parametrize("endpoint", _post_endpoints())
def test_no_form_answers_a_server_error_whatever_is_typed(app, client, world: World, endpoint):
    people = {None: None, **{role.value: world.people[role] for role in Role}, "newcomer": world.newcomer}
    if endpoint not in WHERE:
        crawl(app, client, world, people)
    found = endpoint in WHERE
    if found:
        label, page = WHERE[endpoint]
        fresh = [url for url in token_pages(app, world) if url.rsplit("/", 1)[0] == page.rsplit("/", 1)[0]]
        page = fresh[0] if fresh else page  # a link from an e-mail: this world's own token
        logged_in = client.get("/accueil").status_code == 200
        if people[label] is not None:
            (switch_to if logged_in else login)(client, people[label])
        elif logged_in:  # a visitor's form: the crawl left someone logged in
            post_form(client, "/compte/deconnexion", {}, page="/accueil")
        html = client.get(page).get_data(as_text=True)
        parser = Forms()
        parser.feed(html)
        token = (re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or [None, ""])[1]
        form = next(f for f in parser.forms if endpoint_of(app, f["action"] or page, f["method"]) == endpoint)
        fuzz(client, form["action"] or page, form, token, f"{label} {page}")
    assert found or endpoint in WITHOUT_A_FORM, f"no page shows a form for {endpoint}: add it to WITHOUT_A_FORM"


# endpoint → (whose, page) of the first form found for it: the worlds are alike from one test to the next (same
# ids), so a worker crawls the pages once.
WHERE: dict[str, tuple[str | None, str]] = {}


def crawl(app, client, world: World, people: dict) -> None:
    """Every page of every person: where each action's form is shown."""
    for label, person in people.items():
        if person is not None:
            (switch_to if client.get("/accueil").status_code == 200 else login)(client, person)
        for page in pages_for(app, world) + (token_pages(app, world) if person is None else []):
            parser = Forms()
            parser.feed(client.get(page).get_data(as_text=True))
            for form in parser.forms:
                endpoint = endpoint_of(app, form["action"] or page, form["method"])
                if endpoint is not None:
                    WHERE.setdefault(endpoint, (label, page))


def fuzz(client, action: str, form: dict, token: str, where: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(form_data(form["fields"], token))
    def one_example(data: dict) -> None:
        if form["method"] == "post":
            response = client.post(action, data=data, content_type="multipart/form-data")
        else:
            response = client.get(action, query_string={k: v for k, v in data.items() if isinstance(v, str)})
        assert response.status_code < 500, f"{where}: {response.status_code} for {data!r}"

    one_example()
