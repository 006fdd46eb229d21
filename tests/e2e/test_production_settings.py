"""Issue 16, items 12 and 13: production defaults, HTTPS, and /metrics.

The servers here start with the environment an operator who sets nothing
gets (tests/e2e/conftest.py scrubs DEBUG, HTTPS and the rest).
"""

import http.client
import secrets
from urllib.parse import urlsplit

import pytest

from .conftest import running_server, server_env
from .helpers import OTHER_CLIENT_ADDRESS, http_request, run_manage

# deploy/README.md's /etc/realtime.env, for an HTTPS site.
DOCUMENTED_HTTPS_ENV = {
    "DEBUG": "false",
    "HTTPS": "true",
    "ALLOWED_HOSTS": "social.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://social.example.com",
    "TRUSTED_PROXIES": "127.0.0.1",
}


def fetch(url: str, *, headers=None, source_address=None) -> tuple[int, dict, bytes]:
    """GET `url` without following redirects: (status, headers, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname,
        parts.port,
        timeout=10,
        source_address=(source_address, 0) if source_address else None,
    )
    try:
        connection.request("GET", parts.path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("defaults")
    with running_server("default_server", server_env(workdir), workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    """The documented HTTPS configuration; nginx's part played by the test
    (on 127.0.0.1, the trusted proxy), with ALLOWED_HOSTS widened to reach it."""
    workdir = tmp_path_factory.mktemp("https")
    env = {
        **server_env(workdir),
        **DOCUMENTED_HTTPS_ENV,
        "ALLOWED_HOSTS": "social.example.com,127.0.0.1",
        "METRICS_TOKEN": "scrape-" + secrets.token_hex(16),
    }
    with running_server("https_server", env, workdir / "daphne.log") as server:
        yield server


def test_debug_is_off_unless_asked_for(default_server):
    status, _, body = http_request(default_server.http_url + "/no-such-page/")
    assert status == 404
    # Django's technical 404 page lists the URL patterns; the plain one does not.
    assert b"URLconf" not in body and b"urlpatterns" not in body.lower()


def test_a_server_without_a_secret_key_refuses_to_start(tmp_path):
    env = {key: value for key, value in server_env(tmp_path).items() if key != "SECRET_KEY"}
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_check_deploy_is_clean_for_the_documented_https_configuration(tmp_path):
    env = {**server_env(tmp_path), **DOCUMENTED_HTTPS_ENV, "SECRET_KEY": secrets.token_urlsafe(50)}
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_is_redirected_to_https(https_server):
    status, headers, _ = fetch(https_server.http_url + "/api/trending/")
    assert status == 301
    assert headers["Location"].startswith("https://")


def test_https_from_the_trusted_proxy_is_served_with_hsts_and_secure_cookies(https_server):
    status, headers, _ = fetch(https_server.http_url + "/", headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert "max-age=" in headers["Strict-Transport-Security"]
    assert "; secure" in headers["Set-Cookie"].lower()


def test_a_client_cannot_claim_https_for_itself(https_server):
    # Not the trusted proxy: its X-Forwarded-Proto is not believed.
    status, headers, _ = fetch(
        https_server.http_url + "/api/trending/",
        headers={"X-Forwarded-Proto": "https"},
        source_address=OTHER_CLIENT_ADDRESS,
    )
    assert status == 301


def test_health_checks_answer_over_plain_http(https_server):
    for path in ("/healthz", "/readyz"):
        assert fetch(https_server.http_url + path)[0] == 200


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("metrics")
    env = {**server_env(workdir), "METRICS_ALLOWED_NETWORKS": "127.0.0.1/32"}
    with running_server("metrics_server", env, workdir / "daphne.log") as server:
        yield server


def test_metrics_are_refused_outside_the_allowed_networks(metrics_server):
    assert fetch(metrics_server.http_url + "/metrics")[0] == 200
    status, _, body = fetch(
        metrics_server.http_url + "/metrics",
        # Naming an allowed address does not help: no proxy is trusted.
        headers={"X-Forwarded-For": "127.0.0.1"},
        source_address=OTHER_CLIENT_ADDRESS,
    )
    assert status == 403
    assert b"realtime_" not in body


def test_metrics_are_refused_to_a_public_client_behind_the_proxy(https_server):
    status, _, body = fetch(
        https_server.http_url + "/metrics",
        headers={"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"},
    )
    assert status == 403
    assert b"realtime_" not in body


def test_metrics_are_served_for_the_bearer_token(https_server):
    token = https_server.env["METRICS_TOKEN"]
    headers = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    status, _, _ = fetch(
        https_server.http_url + "/metrics",
        headers={**headers, "Authorization": "Bearer wrong"},
    )
    assert status == 403
    status, _, body = fetch(
        https_server.http_url + "/metrics",
        headers={**headers, "Authorization": f"Bearer {token}"},
    )
    assert status == 200 and b"realtime_connections_open" in body
