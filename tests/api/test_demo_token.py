"""The demo (#22): `flask demo-data` gives the first demo coordinator a token of the API, printed with the logins,
so that the API shows realistic content from the start."""

from __future__ import annotations

from app.domain.demo import DEMO_API_TOKEN
from tests.api.support import bearer
from tests.factories import load_demo_data


def test_the_demo_coordinator_s_token_reads_their_territory_and_is_printed_with_the_logins(app, client, runner,
                                                                                            clock):
    load_demo_data(seed=2026, today=clock.now().date())
    app.config["RELAIS_BASE_URL"] = "http://127.0.0.1:5077/"
    printed = runner.invoke(args=["demo-logins"]).output
    assert DEMO_API_TOKEN in printed and "coordination.police." in printed
    # The example command calls the address the app runs at (make run PORT=5077), not a fixed one.
    assert "http://127.0.0.1:5077/api/v1/requests" in printed
    requests = client.get("/api/v1/requests", headers=bearer(DEMO_API_TOKEN))
    assert requests.status_code == 200 and requests.get_json()["items"]
    sessions = client.get("/api/v1/sessions", headers=bearer(DEMO_API_TOKEN)).get_json()["items"]
    assert sessions and all(s["departement_code"] == sessions[0]["departement_code"] for s in sessions)
    assert client.get("/api/v1/statistics", headers=bearer(DEMO_API_TOKEN)).status_code == 200
