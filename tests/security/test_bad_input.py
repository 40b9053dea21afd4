"""Bad input gets a clear answer (404, or the form again with its French message), never a 500 (issue #17,
points 10 and 19): one converter for ids, one range for dates, one cleaning of typed text, one guard for NUL."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.models import Role
from tests.factories import make_confirmed_session, make_coordinator, make_qualified_trainer, make_user
from tests.helpers import SKIPPED_ENDPOINTS, csrf_token_from, login, switch_to

HUGE_IDS = (2**31, 2**63, 10**30)
BLANKS = (" ", "\u2028", "\u0085", "\u00a0 \t")
ABSURD_DATES = ("9999-12-31", "0001-01-01", "2027-02-30", "31/12/9999")


@pytest.fixture
def people(app):
    users = {Role.REQUESTER: make_user(Role.REQUESTER), Role.TRAINER: make_qualified_trainer().user,
             Role.COORDINATOR: make_coordinator("69"), Role.ADMIN: make_user(Role.ADMIN)}
    db.session.commit()
    return users


def _rules_with_ids(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.rule.startswith("/api/"):
            continue  # the API takes a token, not the cookies: tests/api/test_api_access.py tries its huge ids
        int_arguments = [name for name in rule.arguments if isinstance(rule._converters[name], IntegerConverter)]
        if int_arguments:
            yield rule, int_arguments


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_any_table_are_not_found_on_every_route(app, client, people, huge):
    app.config["WTF_CSRF_ENABLED"] = False  # reach the POST views too
    login(client, people[Role.ADMIN])
    checked = 0
    for rule, int_arguments in _rules_with_ids(app):
        values = {name: (huge if name in int_arguments else "inexistant") for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for role, person in people.items():
            if rule.endpoint not in ("main.home",):
                switch_to(client, person)
            method = "GET" if "GET" in rule.methods else "POST"
            status = client.open(url, method=method).status_code
            assert status in (403, 404), f"{role} {method} {url}: {status}"
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("after", [str(2**31), str(2**63), "-1", "1e9", "abc"])
def test_the_keyset_of_long_lists_ignores_an_impossible_position(app, client, people, after):
    for role, url in ((Role.COORDINATOR, "/coordination/demandes"), (Role.COORDINATOR, "/formateurs/"),
                      (Role.ADMIN, "/admin/utilisateurs")):
        switch_to(client, people[role]) if client.get("/accueil").status_code == 200 else login(client, people[role])
        assert client.get(url, query_string={"apres": after}).status_code == 200, (url, after)


def test_registering_an_establishment_without_or_with_an_unknown_kind_says_so(app, client, people):
    login(client, people[Role.REQUESTER])
    for kind in (None, "nimportequoi", " "):
        page = client.get("/etablissement/nouveau").get_data(as_text=True)
        data = {"name": "Collège Jean-Moulin", "identifier": "0690001A", "address": "1 rue Garibaldi",
                "postcode": "69001", "csrf_token": csrf_token_from(page)}
        if kind is not None:
            data["kind"] = kind
        response = client.post("/etablissement/nouveau", data=data)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "Choisissez le type d'établissement." in text or "N&#39;est pas un choix valide." in text, kind


@pytest.mark.parametrize("values", [
    {},
    {"date_from": "2027-13-45", "date_to": "x", "departement": "69", "force": "police", "fingerprint": "f"},
    {"date_from": "9999-12-31", "date_to": "9999-12-31", "departement": "69", "force": "police", "fingerprint": "f"},
    {"date_from": "2027-01-04", "date_to": "2027-01-08", "departement": "13", "force": "police", "fingerprint": "f"},
])
def test_sending_a_plan_with_a_missing_or_invalid_period_says_so(app, client, people, values):
    login(client, people[Role.COORDINATOR])
    page = client.get("/planification/").get_data(as_text=True)
    response = client.post("/planification/envoyer", data={**values, "csrf_token": csrf_token_from(page)})
    assert response.status_code in (400, 404)


def test_a_force_with_a_trailing_blank_is_the_force(app, client, people):
    login(client, people[Role.COORDINATOR])
    page = client.get("/planification/").get_data(as_text=True)
    response = client.post("/planification/envoyer", data={
        "date_from": "2027-01-04", "date_to": "2027-01-08", "departement": "69", "force": "police ",
        "fingerprint": "stale", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 409  # read as "police": the plan is shown again, as for any change


@pytest.mark.parametrize("blank", BLANKS)
def test_blank_values_in_optional_filters_mean_no_filter(app, client, people, blank):
    login(client, people[Role.COORDINATOR])
    statistics = client.get("/statistiques/", query_string={"force": blank, "departement": blank})
    assert statistics.status_code == 200
    export = client.get("/calendrier/export", query_string={"format": "csv", "force": blank, "departement": blank,
                                                            "establishment": blank, "trainer": blank,
                                                            "statuses": "confirmed"})
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert client.get("/coordination/demandes", query_string={"force": blank, "type": blank}).status_code == 200
    assert client.get("/formateurs/", query_string={"q": blank, "force": blank}).status_code == 200


@pytest.mark.parametrize("day", ABSURD_DATES)
def test_absurd_dates_are_refused_in_french_next_to_the_field(app, client, people, clock, day):
    intervention, trainer, coordinator = make_confirmed_session()
    login(client, coordinator)
    for url in ("/calendrier/export", "/statistiques/"):
        response = client.get(url, query_string={"format": "csv", "date_from": day, "date_to": day,
                                                 "statuses": "confirmed"})
        assert response.status_code == 400, (url, day)
        text = response.get_data(as_text=True)
        assert "Date hors des limites" in text or "date" in text.lower()
    url = f"/propositions/interventions/{intervention.id}/horaire"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"day": day, "start": "10:00", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400
    switch_to(client, trainer.user)
    page = client.get("/formateurs/mes-disponibilites").get_data(as_text=True)
    response = client.post("/formateurs/mes-disponibilites", data={
        "exception-kind": "unavailable", "exception-start_day": day, "exception-end_day": day,
        "exception-submit_exception": "1", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 200 and "Indisponibilité ajoutée" not in response.get_data(as_text=True)


def test_nul_bytes_anywhere_in_a_query_or_a_form_are_refused_before_any_view(app, client, people):
    login(client, people[Role.ADMIN])
    for url in ("/admin/utilisateurs?q=a%00b", "/coordination/demandes?departement=%00", "/formateurs/?q=%00",
                "/statistiques/?departement=%00"):
        response = client.get(url)
        assert response.status_code == 400 and "La demande envoyée n'est pas valide." in response.get_data(
            as_text=True), url
    page = client.get("/admin/utilisateurs/inviter").get_data(as_text=True)
    response = client.post("/admin/utilisateurs/inviter", data={
        "email": "nouveau@exemple.fr", "full_name": "Nom\x00", "role": "admin", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 400


def test_every_form_cleans_typed_text_the_same_way(app):
    from app.domain.text import clean_text

    assert clean_text("  Collège\u2028Jules-Ferry\x00 \u202e ") == "Collège\nJules-Ferry"
    assert clean_text("e\u0301cole") == "école"  # NFC: the same name typed two ways is one name
    assert clean_text(" \u0085 ") == "" and clean_text([" a ", "b\x07"]) == ["a", "b"] and clean_text(3) == 3
    assert re.sub(r"\s", "", clean_text("\ttab\r\nkept")) == "tabkept"
