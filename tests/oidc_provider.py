"""A real OpenID Connect provider for the single sign-on tests: `oidc-provider-mock` (a dev dependency, built on
Authlib's server) served on loopback by werkzeug in a thread, on a free port. It signs its ID tokens with its own
key (published at /jwks), honours PKCE, state and nonce, and has an end-session endpoint.

Its agents are declared through its own API (`set_user`); `sign_in(authorize_url, sub)` is the person choosing
their identity on its page, and returns where the provider sends the browser back.

A test module's fixture runs one (`running_provider`) and points the application at it (`configure`).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import oidc_provider_mock
import requests
from werkzeug.serving import make_server


class Provider:
    def __init__(self, url: str):
        self.url = url

    @property
    def issuer(self) -> str:
        return self.url

    def set_user(self, sub: str, **claims: object) -> None:
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def sign_in(self, authorize_url: str, sub: str) -> str:
        """The person picks their identity on the provider's page: the path and query of the way back to Relais."""
        assert authorize_url.startswith(f"{self.url}/oauth2/authorize?"), authorize_url
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text[:1000]
        back = urlsplit(response.headers["Location"])
        return f"{back.path}?{back.query}"


@contextmanager
def running_provider(*, token_max_age: timedelta = timedelta(hours=1)) -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_max_age)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)


def closed_port_url() -> str:
    """The address of a provider that is down: a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def configure(app, issuer: str, **settings) -> None:
    """Points the application at this provider (the settings a deployment gives through RELAIS_OIDC_*)."""
    app.config.update(RELAIS_OIDC_ISSUER=issuer, RELAIS_OIDC_CLIENT_ID="relais-tests",
                      RELAIS_OIDC_CLIENT_SECRET="secret-des-tests", RELAIS_OIDC_SCOPES="openid email profile",
                      RELAIS_OIDC_TIMEOUT=3, **settings)
    app.extensions.pop("relais.oidc", None)
