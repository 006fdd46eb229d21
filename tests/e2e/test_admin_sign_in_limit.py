"""Password guessing through the Django admin's sign-in form (issue 16): it
takes the same per-address budget as the REST sign-in and registration (the
"credentials" rate, 30 a minute by default), against a live server with the
limits at their defaults."""

import http.cookiejar
import re
import uuid
from urllib.parse import urlencode

import pytest

from .conftest import limited_env, running_server, server_env
from .helpers import OTHER_CLIENT_ADDRESS, http_request

# settings.py's default "credentials" rate: 30 a minute per address.
CREDENTIALS_PER_MINUTE = 30
OPERATOR_PASSWORD = "x-Operator-Password-2026!"
# More clients, each with a budget of its own (Linux routes 127.0.0.0/8 to lo).
THIRD_CLIENT_ADDRESS = "127.0.0.3"
FOURTH_CLIENT_ADDRESS = "127.0.0.4"

# PBKDF2 reads its iteration count from the stored hash, and pads a wrong
# guess to the full count only when the hash is of the preferred algorithm:
# a one-iteration SHA-1 PBKDF2 hash (a hasher Django still accepts) makes a
# budget's worth of guesses take a fraction of a second instead of ten. A
# right password re-hashes at full strength, hence an operator per test.
CREATE_OPERATOR = """
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2SHA1PasswordHasher
hasher = PBKDF2SHA1PasswordHasher()
user = get_user_model().objects.create_superuser({username!r}, password=None)
user.password = hasher.encode({password!r}, hasher.salt(), iterations=1)
user.save(update_fields=["password"])
"""


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("admin_sign_in")
    env = limited_env(server_env(workdir))
    with running_server("admin_server", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture
def operator(admin_server) -> str:
    """The username of a fresh superuser with OPERATOR_PASSWORD."""
    username = f"root{uuid.uuid4().hex[:8]}"
    script = CREATE_OPERATOR.format(username=username, password=OPERATOR_PASSWORD)
    created = admin_server.manage("shell", "-c", script)
    assert created.returncode == 0, created.stderr
    return username


class AdminBrowser:
    """A browser on one client address, signing in through /admin/login/."""

    def __init__(self, server, source_address: str):
        self.server = server
        self.source_address = source_address
        self.cookies = http.cookiejar.CookieJar()
        self.csrf_token = ""

    def request(self, path: str, method: str = "GET", data: bytes | None = None, headers=None):
        return http_request(
            self.server.http_url + path,
            method,
            data=data,
            headers=headers,
            cookies=self.cookies,
            source_address=self.source_address,
        )

    def open_sign_in_page(self) -> None:
        status, _, body = self.request("/admin/login/")
        assert status == 200, (status, body[:300])
        field = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert field, body[:300]
        self.csrf_token = field[1].decode()

    def sign_in(self, username: str, password: str) -> tuple[int, dict, bytes]:
        form = {
            "csrfmiddlewaretoken": self.csrf_token,
            "username": username,
            "password": password,
            "next": "/admin/",
        }
        return self.request(
            "/admin/login/?next=/admin/",
            "POST",
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def guess_wrong(self, username: str, times: int) -> None:
        """Send `times` wrong passwords; each must be checked and refused."""
        for guess in range(times):
            status, _, body = self.sign_in(username, f"guess-{guess}")
            assert status == 200 and b"Please enter the correct username" in body, (
                guess,
                status,
                body[:300],
            )

    @property
    def signed_in(self) -> bool:
        return any(cookie.name == "sessionid" for cookie in self.cookies)


def assert_refused_unchecked(answer, browser: AdminBrowser) -> None:
    status, headers, body = answer
    assert status == 429, (status, body[:300])
    assert int(headers["Retry-After"]) >= 1, headers
    assert not browser.signed_in, "the right password signed in past the limit"


def test_admin_password_guessing_is_limited_per_address(admin_server, operator):
    attacker = AdminBrowser(admin_server, "127.0.0.1")
    attacker.open_sign_in_page()
    attacker.guess_wrong(operator, CREDENTIALS_PER_MINUTE)
    # Past the budget even the right password is refused, unchecked.
    assert_refused_unchecked(attacker.sign_in(operator, OPERATOR_PASSWORD), attacker)
    # Only attempts are limited: the form itself still shows.
    attacker.open_sign_in_page()
    # One budget per address for every way of trying a password.
    status, body = admin_server.api(
        "POST", "/api/auth/token/", body={"username": operator, "password": OPERATOR_PASSWORD}
    )
    assert status == 429, (status, body)
    # Another client is served throughout.
    colleague = AdminBrowser(admin_server, OTHER_CLIENT_ADDRESS)
    colleague.open_sign_in_page()
    status, _, body = colleague.sign_in(operator, OPERATOR_PASSWORD)
    assert status == 200 and b"Site administration" in body, (status, body[:300])
    assert colleague.signed_in


def test_rest_sign_in_guesses_use_up_the_admin_sign_in_budget(admin_server, operator):
    for guess in range(CREDENTIALS_PER_MINUTE):
        status, body = admin_server.api(
            "POST",
            "/api/auth/token/",
            body={"username": operator, "password": f"guess-{guess}"},
            source_address=THIRD_CLIENT_ADDRESS,
        )
        assert status == 401, (guess, status, body)
    attacker = AdminBrowser(admin_server, THIRD_CLIENT_ADDRESS)
    attacker.open_sign_in_page()
    assert_refused_unchecked(attacker.sign_in(operator, OPERATOR_PASSWORD), attacker)


def test_signed_in_user_guessing_an_operators_password_is_limited_too(admin_server, operator):
    # Any visitor may register, which signs the browser in; DRF's anonymous
    # throttle would then stop counting that browser's attempts.
    attacker = AdminBrowser(admin_server, FOURTH_CLIENT_ADDRESS)
    attacker.open_sign_in_page()
    # As the dashboard registers: with the CSRF cookie's token in a header.
    csrf_cookie = next(cookie.value for cookie in attacker.cookies if cookie.name == "csrftoken")
    form = {"username": f"member{uuid.uuid4().hex[:8]}", "password": OPERATOR_PASSWORD + "x"}
    status, _, body = attacker.request(
        "/api/auth/register/",
        "POST",
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrf_cookie},
    )
    assert status == 201 and attacker.signed_in, (status, body[:300])
    attacker.open_sign_in_page()
    # The registration took one attempt of the budget.
    attacker.guess_wrong(operator, CREDENTIALS_PER_MINUTE - 1)
    answer = attacker.sign_in(operator, OPERATOR_PASSWORD)
    assert answer[0] == 429, (answer[0], answer[2][:300])
    assert int(answer[1]["Retry-After"]) >= 1, answer[1]
