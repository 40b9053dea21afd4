"""A real CalDAV server for the tests and the benchmark: Radicale (a dev dependency) on loopback, its own folder and
plain-text password file, on a free port; it can be stopped and started again on the same port and storage.

Tests import the `radicale` fixture from here (`from tests.radicale import radicale  # noqa: F401`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import caldav
import pytest
from icalendar import Calendar

USER, PASSWORD = "formateur", "appli-Mot2passe-9271"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Radicale:
    def __init__(self, folder: Path, users: dict[str, str] | None = None):
        self.folder = folder
        self.port = _free_port()
        self.users = users or {USER: PASSWORD, "sans-agenda": "Mot2passe-vide"}
        (folder / "users").write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
        (folder / "config").write_text(f"""[server]
hosts = 127.0.0.1:{self.port}
[auth]
type = htpasswd
htpasswd_filename = {folder / 'users'}
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = {folder / 'collections'}
[rights]
type = owner_only
[web]
type = none
[logging]
level = warning
""")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def calendar_url(self, calendar_id: str = "travail", user: str = USER) -> str:
        return f"{self.url}{user}/{calendar_id}/"

    def start(self) -> None:
        log = (self.folder / "radicale.log").open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(self.folder / "config")],
                                        stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("Radicale did not start: " + (self.folder / "radicale.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self, user: str = USER) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.url, username=user, password=self.users[user], auth_type="basic",
                                enable_rfc6764=False, timeout=10)

    def make_calendar(self, calendar_id: str = "travail", name: str = "Travail", user: str = USER) -> str:
        self.client(user).principal().make_calendar(name=name, cal_id=calendar_id)
        return self.calendar_url(calendar_id, user)

    def delete_calendar(self, calendar_id: str = "travail", user: str = USER) -> None:
        client = self.client(user)
        client.calendar(url=self.calendar_url(calendar_id, user)).delete()

    def events(self, calendar_id: str = "travail", user: str = USER) -> dict[str, list[Calendar]]:
        """Every event of the calendar by UID (a list: two copies of one UID would be a double)."""
        client = self.client(user)
        found: dict[str, list[Calendar]] = {}
        # events() (a calendar-query): objects() is a sync report, which lists deleted members too.
        for item in client.calendar(url=self.calendar_url(calendar_id, user)).events():
            calendar = Calendar.from_ical(item.data)
            for event in calendar.walk("VEVENT"):
                found.setdefault(str(event["UID"]), []).append(calendar)
        return found

    def event_resource(self, uid: str, calendar_id: str = "travail", user: str = USER):
        """The caldav object of one event, as a person's calendar program would edit it."""
        client = self.client(user)
        calendar = client.calendar(url=self.calendar_url(calendar_id, user))
        return calendar.get_event_by_uid(uid)


@pytest.fixture
def radicale(tmp_path) -> Iterator[Radicale]:
    server = Radicale(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
