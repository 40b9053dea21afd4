"""The deployment guide, followed: gunicorn with two workers and a `deliver` worker, as separate
processes sharing only the database, drive a confirmation through HTTP to a calendar invitation."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from app.domain.caldav_push import derived_key
from app.extensions import db
from app.models import Force
from tests.factories import PASSWORD, make_coordinator, make_qualified_trainer, make_session_in_planning
from tests.helpers import current_totp_code

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """Just enough of a browser: cookies, and the CSRF token of the last page."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, data: dict, page: str) -> int:
        """Posts like the page's form: every field named *csrf_token gets the page's token."""
        token = re.search(r'name="[^"]*csrf_token" (?:type="hidden" )?value="([^"]+)"', self.get(page)).group(1)
        fields = {name: token if name.endswith("csrf_token") else value for name, value in data.items()}
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode())  # noqa: S310
        with self.opener.open(request, timeout=30) as response:  # noqa: S310 (the local test server only)
            return response.status


def wait_for(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def test_gunicorn_two_workers_and_a_deliver_worker(app, database_url, smtp_server, tmp_path):
    intervention = make_session_in_planning(contact_email="vie.scolaire@college.example")
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    port = free_port()
    env = {**os.environ, "RELAIS_ENV": "production", "DATABASE_URL": database_url,
           "SECRET_KEY": "deployment-test-secret",
           # The key the tests' app encrypted the coordinator's second factor with (#21).
           "RELAIS_CALDAV_KEY": app.config["RELAIS_CALDAV_KEY"] or derived_key(app.config["SECRET_KEY"]),
           "SESSION_COOKIE_SECURE": "0", "RELAIS_BEHIND_PROXY": "0",
           "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
           "RELAIS_INSTANCE_PATH": str(tmp_path), "RELAIS_BASE_URL": f"http://127.0.0.1:{port}"}
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "2",
                            "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "deliver", "--interval", "0.5"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")

        def healthy() -> bool:
            try:
                return '"status":"ok"' in browser.get("/healthz").replace(" ", "")
            except OSError:
                return False

        assert wait_for(healthy), "gunicorn did not answer /healthz"
        assert browser.post("/compte/connexion", {"email": coordinator.email, "password": PASSWORD,
                                                  "csrf_token": ""}, page="/compte/connexion") == 200
        # A coordinator's second factor (#21); the server reads the secret with the keys of the tests' app.
        assert browser.post("/compte/double-authentification", {"code": current_totp_code(coordinator.email),
                                                                "csrf_token": ""},
                            page="/compte/double-authentification") == 200
        candidates = (f"/coordination/demandes/{intervention.request_id}/interventions/{intervention.id}"
                      "/candidats")
        page = browser.get(candidates)
        start = re.search(rf'name="c{trainer.id}-starts_at"[^>]*>\s*<option[^>]*value="([^"]+)"', page).group(1)
        status = browser.post(f"/propositions/interventions/{intervention.id}/formateurs/{trainer.id}",
                              {f"c{trainer.id}-csrf_token": "", f"c{trainer.id}-starts_at": start,
                               f"c{trainer.id}-assign": "y"}, page=candidates)
        assert status == 200

        def invited() -> bool:
            return any(m["To"] == trainer.user.email and "Invitation" in m["Subject"]
                       for m in smtp_server.handler.messages)

        assert wait_for(invited), "the deliver worker did not send the invitation"
        [message] = [m for m in smtp_server.handler.messages if m["To"] == trainer.user.email]
        calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        assert calendar.get_param("method") == "REQUEST" and intervention.ical_uid in calendar.get_content()
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_each_worker_hides_its_startup_objects_from_the_collector_and_collects_less_often():
    """gunicorn.conf.py's post_worker_init: the app's objects frozen out of full collections, and a young
    generation of 5,000 objects (700 by default made about two collections a page)."""
    import gc
    import runpy

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold() == (5000, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
