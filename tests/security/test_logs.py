"""No secret of an address reaches a log (issue #17, point 5): a calendar feed's token, password-reset and
activation links, and any route argument named `token`, are replaced by `<token>` in gunicorn's access and error
logs, the app's JSON lines and Flask's error reports with their tracebacks (app.operations.redact).

The last test reads the logs of a real gunicorn run (production settings, two workers)."""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request

from werkzeug.routing import IntegerConverter

from app import create_app
from app.domain import feeds, tokens
from app.domain.reference_data import sync_reference_data
from app.extensions import db
from app.operations import SECRET_ARGUMENTS, redact
from tests.factories import make_trainer, make_user
from tests.helpers import gunicorn_running

# Route arguments that are no secret: a language code, the name of a statistics table, a static file, a territory.
PLAIN_ARGUMENTS = frozenset({"code", "key", "filename", "departement_code", "force"})
SECRET = "logs-test-secret-key"
EXAMPLE_TOKEN = "eyJ1aWQiOjQyLCJmcCI6ImFiYyJ9.Z0x9aA.s3cr3t-S1gnature_xyz"


def test_every_route_argument_is_an_id_a_known_plain_value_or_a_redacted_token(app):
    """A new route with a secret in its path must name it `token` (then every log redacts it); anything else
    must be declared plain here, on purpose."""
    for rule in app.url_map.iter_rules():
        for argument in rule.arguments:
            if isinstance(rule._converters[argument], IntegerConverter):
                continue
            assert argument in SECRET_ARGUMENTS | PLAIN_ARGUMENTS, (
                f"{rule.rule}: is <{argument}> a secret? name it <token>, or add it to PLAIN_ARGUMENTS")


def test_redact_hides_the_token_of_every_token_route_wherever_it_appears(app):
    token_rules = [rule for rule in app.url_map.iter_rules() if SECRET_ARGUMENTS & set(rule.arguments)]
    assert {"/calendrier/flux/<token>.ics", "/compte/nouveau-mot-de-passe/<token>",
            "/compte/activer/<token>"} <= {rule.rule for rule in token_rules}
    for rule in token_rules:
        path = rule.build({"token": EXAMPLE_TOKEN}, append_unknown=False)[1]
        for line in (f'127.0.0.1 "GET {path} HTTP/1.1" 200 512 3ms',
                     f"Exception on {path} [POST]",
                     f"Referer: https://relais.example{path}?next=/accueil",
                     f'{{"path": "{path}"}}'):
            cleaned = redact(line)
            assert EXAMPLE_TOKEN not in cleaned and "s3cr3t" not in cleaned, cleaned
            assert rule.rule.replace("<token>", "") in cleaned.replace("<token>", "")
    assert redact("/calendrier/?token=abc123&x=1") == "/calendrier/?token=<token>&x=1"
    assert redact("/compte/connexion?next=/accueil") == "/compte/connexion?next=/accueil"
    assert redact(redact(f"/compte/activer/{EXAMPLE_TOKEN}")) == "/compte/activer/<token>"


def _get(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_real_gunicorn_run_logs_no_token(tmp_path):
    database = tmp_path / "logs.sqlite3"
    builder = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with builder.app_context():
        db.create_all()
        sync_reference_data(db.session)
        trainer = make_trainer()
        invited = make_user(activated=False)
        feed = feeds.feed_of(db.session, SECRET, user=trainer.user)
        secrets = {
            "feed": feeds.feed_token(SECRET, feed.nonce),
            "reset": tokens.make_token(SECRET, tokens.PASSWORD_RESET, trainer.user.id,
                                      trainer.user.password_hash, trainer.user.email),
            "activation": tokens.make_token(SECRET, tokens.ACTIVATION, invited.id, invited.password_hash,
                                           invited.email),
        }
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    log_path = tmp_path / "gunicorn.log"
    env = {"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": SECRET, "RELAIS_REQUEST_LOG": "1"}
    with gunicorn_running(env, log_path) as base:
        feed_url = f"{base}/calendrier/flux/{secrets['feed']}.ics"
        reset_url = f"{base}/compte/nouveau-mot-de-passe/{secrets['reset']}"
        assert _get(feed_url) == 200
        assert _get(feed_url + f"?token={secrets['feed']}") == 200
        assert _get(reset_url, {"Referer": feed_url}) == 200
        assert _get(f"{base}/compte/activer/{secrets['activation']}", {"Referer": reset_url}) == 200
        assert _get(f"{base}/compte/activer/{secrets['reset']}x") == 200  # forged: refused (to the log-in page)
        # A failure on a token route: Flask reports the exception, its path and its traceback.
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TABLE calendar_feed")
        assert _get(feed_url) == 500
    logs = log_path.read_text(errors="replace")
    for name, secret in secrets.items():
        for piece in (secret, secret.rsplit(".", 1)[-1]):  # the whole token, and its signature alone
            assert piece not in logs, f"the {name} token reached the logs:\n{logs}"
    # The lines were written, with the routes' shape kept.
    assert '"GET /calendrier/flux/<token>.ics HTTP/1.1" 200' in logs
    assert '"GET /compte/nouveau-mot-de-passe/<token> HTTP/1.1" 200' in logs
    assert '"GET /compte/activer/<token> HTTP/1.1" 200' in logs
    assert "Exception on /calendrier/flux/<token>.ics [GET]" in logs and "Traceback" in logs
    assert '"route": "/calendrier/flux/<token>.ics", "status": 500' in logs
    # Two workers and rate limits in each one's memory: said at start-up.
    assert ("[WARNING] Rate limits are kept in each worker's memory (RATELIMIT_STORAGE_URI=memory://) and 2 "
            "workers run") in logs
