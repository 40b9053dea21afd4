"""Running in production: one log line per request, no secret in any log, security headers, the proxies trusted,
and the health check.

Several processes (and machines) share nothing but the database: log-in sessions live in the database (their
cookies carry a token), rate limits in RATELIMIT_STORAGE_URI when one is set, e-mails in the outbox.

Secrets in addresses (a calendar feed's token, password-reset and activation links, and whatever route argument
is named `token`) never reach a log: `redact` replaces them with `<token>`, and every log record of the process
goes through it (a log record factory: the app's JSON lines, Flask's error reports and their tracebacks, the
development server's lines), as gunicorn's access and error logs do (`RedactionFilter`, set by gunicorn.conf.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from ipaddress import ip_address, ip_network

from flask import Flask, current_app, g, request
from flask_login import current_user

access_log = logging.getLogger("relais.requests")

# No inline script anywhere (pygal's is stripped); inline styles stay allowed for the SVG charts.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
# Answers that set no caching of their own are not kept by browsers or proxies: the pages behind log-in show
# people's names and the secret feed address. Files (the static folders) may be.
NOT_STORED = "no-store"
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})


def init_app(app: Flask) -> None:
    register_secret_routes(app)
    install_log_redaction()
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["RELAIS_TRUSTED_PROXIES"],
                                  app.config["RELAIS_PROXY_ADDRESSES"])

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
        if request.endpoint not in STATIC_ENDPOINTS:
            headers.setdefault("Cache-Control", NOT_STORED)
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
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    access_log.info(json.dumps({
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else "<not found>",
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user_id": user_id,
    }))


# -- proxies --------------------------------------------------------------------------------------------------


class TrustedProxies:
    """Reads X-Forwarded-For/Proto/Host/Port/Prefix (werkzeug's ProxyFix, `count` proxies deep) only when the
    request comes from one of the proxies' addresses; drops them from anyone else, who could otherwise choose the
    address the rate limits count, or pass for HTTPS. With `count` 0 they are always dropped."""

    def __init__(self, wsgi_app, count: int, addresses: str):
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.app = wsgi_app
        self.count = count
        self.fixed = ProxyFix(wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count, x_prefix=count)
        self.networks = tuple(ip_network(item.strip(), strict=False) for item in addresses.split(",") if item.strip())

    def trusts(self, remote_address: str | None) -> bool:
        if not self.count or not remote_address:
            return False
        try:
            address = ip_address(remote_address)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in [key for key in environ if key.startswith("HTTP_X_FORWARDED_") or key == "HTTP_FORWARDED"]:
            del environ[key]
        return self.app(environ, start_response)


# -- no secret in the logs ----------------------------------------------------------------------------------

SECRET_ARGUMENTS = frozenset({"token"})  # a route argument of this name is a secret (tests/security/test_logs.py)
PLACEHOLDER = "<token>"
_HIDDEN_GROUP = r"(?P<secret{n}>[^/?#\s\"'<>]+)"
_OTHER = r"[^/?#\s\"'<>]+"
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_SECRET_QUERY = re.compile(r"([?&](?:token|jeton)=)[^&#\s\"'<>]+", re.IGNORECASE)
_secret_routes: dict[str, re.Pattern] = {}


def _route_pattern(rule: str) -> re.Pattern:
    """The rule `/compte/activer/<token>` as a pattern finding such a path anywhere in a text."""
    parts = _ARGUMENT.split(rule)
    pattern = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            pattern.append(re.escape(part))
        else:
            pattern.append(_HIDDEN_GROUP.format(n=index) if part in SECRET_ARGUMENTS else _OTHER)
    return re.compile("".join(pattern))


def register_secret_routes(app: Flask) -> None:
    """Every route of the app with a secret argument, for `redact` (kept for the process)."""
    for rule in app.url_map.iter_rules():
        if SECRET_ARGUMENTS & set(rule.arguments) and rule.rule not in _secret_routes:
            _secret_routes[rule.rule] = _route_pattern(rule.rule)


def _hide_secrets(match: re.Match) -> str:
    text, offset, kept, last = match.group(0), match.start(), [], 0
    for name, value in match.groupdict().items():
        if value is not None and name.startswith("secret"):
            start, end = match.span(name)
            kept.append(text[last:start - offset])
            kept.append(PLACEHOLDER)
            last = end - offset
    kept.append(text[last:])
    return "".join(kept)


def redact(text: str) -> str:
    """The text with every secret of a known route (and any `token=` parameter) replaced by `<token>`."""
    for pattern in _secret_routes.values():
        text = pattern.sub(_hide_secrets, text)
    return _SECRET_QUERY.sub(lambda match: match.group(1) + PLACEHOLDER, text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record's message, traceback and stack written out now, secrets redacted."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: logging itself reports it, later
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactionFilter(logging.Filter):
    """For loggers whose records were made before the app set its factory (gunicorn's access and error logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Every log record made in this process goes through `redact_record` (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_secrets", False):
        return

    def make_record(*args, **kwargs) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    make_record.redacts_secrets = True
    logging.setLogRecordFactory(make_record)


# -- start-up --------------------------------------------------------------------------------------------------


def shared_store_warning(workers: int, storage_uri: str, enabled: bool = True) -> str | None:
    """What gunicorn says at start-up when its workers would each count rate limits in their own memory."""
    if workers <= 1 or not enabled or not storage_uri.startswith("memory://"):
        return None
    return (f"Rate limits are kept in each worker's memory (RATELIMIT_STORAGE_URI={storage_uri}) and {workers} "
            f"workers run: every limit (log-in attempts, registrations, password resets) is up to {workers} times "
            "looser than configured. Set RATELIMIT_STORAGE_URI to a shared store, e.g. redis://127.0.0.1:6379/0 "
            "(docs/deployment.md).")
