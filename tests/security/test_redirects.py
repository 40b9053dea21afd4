"""`next=` after log-in and after the language switch leads only to a path of this site (issue #17, point 12): one
function decides (app.auth.redirects.safe_next), tried here with what browsers would read as another site."""

from __future__ import annotations

import pytest

from app.auth.redirects import safe_next
from app.extensions import db
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token_from

HOSTILE = [
    "//evil.example/x",
    "/\t/evil.example",            # browsers drop the tab: //evil.example
    "/%09/evil.example",           # the same, encoded once more (should anything decode it again)
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",             # a backslash is a slash to browsers
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "//\tevil.example",
    "javascript:alert(1)",
    " /accueil",                   # a leading blank: some browsers strip it
    "/accueil\r\nSet-Cookie: x=y",  # a header split
    "/\u3000/evil.example",        # an ideographic space
    "/\u200b/evil.example",        # a zero-width space
    "/\x00/evil.example",
    "///evil.example",
    "evil.example",
    "/" + "a" * 3000,
]
SAME_SITE = ["/accueil", "/demandes/12?onglet=interventions", "/calendrier/", "/coordination/demandes?apres=40#x",
             "/formateurs/?q=Jean%20Dupont", "/%C3%A9t%C3%A9"]


@pytest.mark.parametrize("target", HOSTILE)
def test_nothing_but_a_path_of_this_site_is_followed(target):
    assert safe_next(target, "/accueil") == "/accueil"


@pytest.mark.parametrize("target", SAME_SITE)
def test_paths_of_this_site_are_followed(target):
    assert safe_next(target, "/accueil") == target


@pytest.mark.parametrize("target", HOSTILE)
def test_the_log_in_goes_home_instead(client, target):
    user = make_user()
    db.session.commit()
    token = csrf_token_from(client.get("/compte/connexion").get_data(as_text=True))
    response = client.post("/compte/connexion", query_string={"next": target},
                           data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    if "\x00" in target:
        assert response.status_code == 400  # refused before the log-in: no redirect at all
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/accueil"


def test_the_log_in_follows_a_path_of_this_site(client):
    user = make_user()
    db.session.commit()
    token = csrf_token_from(client.get("/compte/connexion").get_data(as_text=True))
    response = client.post("/compte/connexion?next=/calendrier/",
                           data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/calendrier/"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_switch_stays_on_the_site(client, target):
    token = csrf_token_from(client.get("/compte/connexion").get_data(as_text=True))
    response = client.post("/compte/langue/en", data={"next": target, "csrf_token": token})
    if "\x00" in target:
        assert response.status_code == 400
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/"
    followed = client.post("/compte/langue/fr", data={"next": "/compte/connexion", "csrf_token": token})
    assert followed.headers["Location"] == "/compte/connexion"
