import pytest

pytestmark = pytest.mark.django_db


def test_register_returns_id_and_token_and_token_authenticates(api_for):
    response = api_for().post(
        "/api/auth/register/",
        {"username": "zoe", "password": "a-Strong-password-1", "display_name": "Zoe Q"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user_id", "username", "display_name", "token"}
    assert body["display_name"] == "Zoe Q"
    api = api_for()
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/auth/me/").json()["user_id"] == body["user_id"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "a-Strong-password-1"},
        {"username": "ALICE", "password": "a-Strong-password-1"},
        {"username": "bad name", "password": "a-Strong-password-1"},
        {"username": "zoe", "password": "123"},
        {"username": "zoe"},
    ],
)
def test_register_refuses_taken_names_bad_names_and_weak_passwords(api_for, alice, body):
    assert api_for().post("/api/auth/register/", body, format="json").status_code == 400


def test_token_for_right_password_only(api_for, alice):
    good = api_for().post("/api/auth/token/", {"username": "alice", "password": "a-Strong-password-1"})
    assert good.status_code == 200 and good.json()["user_id"] == str(alice.pk)
    bad = api_for().post("/api/auth/token/", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 401


def test_login_starts_a_session(client, alice):
    response = client.post(
        "/api/auth/login/",
        {"username": "alice", "password": "a-Strong-password-1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert client.get("/api/auth/me/").json()["username"] == "alice"
    client.post("/api/auth/logout/")
    assert client.get("/api/auth/me/").status_code in (401, 403)


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_ws_stats_answers_json(client):
    body = client.get("/ws/stats").json()
    assert set(body) == {"active_users", "total_user_connections", "global_connections", "total_connections"}


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no/such/thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
