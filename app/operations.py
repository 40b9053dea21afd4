"""Running in production: one log line per request, security headers, and the health check.

Several processes (and machines) share nothing but the database: sessions live in signed cookies,
rate limits in RATELIMIT_STORAGE_URI when one is set, e-mails in the outbox.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, current_app, g, request
from flask_login import current_user

access_log = logging.getLogger("relais.requests")

# No inline script anywhere (pygal's is stripped); inline styles stay allowed for the SVG charts.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")


def init_app(app: Flask) -> None:
    if app.config.get("RELAIS_BEHIND_PROXY"):
        # The reverse proxy says the request was HTTPS and who asked: cookies, links and HSTS follow.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _headers_and_log(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure and current_app.config.get("RELAIS_HSTS_SECONDS"):
            headers.setdefault("Strict-Transport-Security",
                               f"max-age={current_app.config['RELAIS_HSTS_SECONDS']}; includeSubDomains")
        _log(response)
        return response


def _log(response) -> None:
    """One JSON line: the route (not the URL: no token or personal data), status, time, user id."""
    started = g.get("request_started")
    if started is None or not access_log.isEnabledFor(logging.INFO):
        return
    user_id = current_user.get_id() if current_user and current_user.is_authenticated else None
    access_log.info(json.dumps({
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else "<not found>",
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user_id": int(user_id) if user_id else None,
    }))
