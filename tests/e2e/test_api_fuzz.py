"""Hostile input against the REST API (issue 5): schemathesis generates
requests from the live server's own OpenAPI schema (/api/schema/), valid
and invalid (wrong types, missing fields, garbage query strings and
bodies), and sends them with a real user's token; then each operation
with ids in its path once more with ids that exist.

Every answer must: not be a 500; have a documented status if it is a
success; be JSON with a status PROTOCOL.md names if it is an error (the
schema documents each operation's success only); and match the schema's
content type, headers and body for its status. Bounded to 10 examples per
operation and mode (about 20 s); FUZZ_EXAMPLES=200 for a longer run.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import running_server, server_env

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("api_fuzz")
    env = server_env(workdir)
    # Hundreds of writes in seconds from one user: the throttle is not under test.
    env["API_WRITE_RATE"] = "100000/minute"
    with running_server("fuzz_server", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_account(fuzz_server):
    account = fuzz_server.register("Fuzz Target")
    # Rows for the ids in paths to find: a tweet, a follower, a notification.
    other = fuzz_server.register()
    tweet = fuzz_server.post_tweet(account, "fuzz me #fuzz")
    fuzz_server.follow(other, account)
    fuzz_server.engage(other, tweet, "like")
    status, page = fuzz_server.api("GET", "/api/notifications/", account.token)
    assert status == 200 and page["results"], page
    existing = {
        "tweet_id": tweet["tweet_id"],
        "user_id": other.user_id,
        "notification_id": page["results"][0]["notification_id"],
    }
    return account, existing


# PROTOCOL.md: "Errors are JSON with a status that says what went wrong
# (400 with field errors, 401, 403, 404, 429); never a 500 for bad input."
# 405/406/415 are DRF's answers to a wrong method, Accept or Content-Type.
ERROR_STATUSES = {400, 401, 403, 404, 405, 406, 415, 429}


def documented_success_or_json_error(ctx, response, case):
    """A success must be a documented status; an error a JSON body with a
    status PROTOCOL.md names. (The schema documents each operation's success
    only, so schemathesis' own status check would flag every 400 and 404.)"""
    if response.status_code < 400:
        return status_code_conformance(ctx, response, case)
    assert response.status_code in ERROR_STATUSES, f"unexpected error status {response.status_code}"
    assert "application/json" in response.headers.get("content-type", [""])[0], response.headers
    body = response.json()
    assert isinstance(body, dict) and body, f"an error body must be a JSON object: {body!r}"
    return None


CHECKS = [
    not_a_server_error,
    documented_success_or_json_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_no_server_error_and_answers_match_the_schema(fuzz_server, fuzz_account):
    account, existing = fuzz_account
    schema = schemathesis.openapi.from_url(fuzz_server.http_url + "/api/schema/?format=json")
    headers = {"Authorization": f"Token {account.token}"}
    failures, operations, runs = [], 0, 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"schemathesis cannot read an operation: {result.err()}"
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, headers)
                runs += 1
            except Unsatisfiable:
                continue  # no parameter or body to make invalid
            except (Exception, BaseExceptionGroup) as failure:
                runs += 1
                failures.append(f"--- {operation.label} ({mode.value} data)\n{failure}")
        names = {parameter.name for parameter in operation.path_parameters}
        if names:
            # Once with ids that exist: what the random ones (404) never reach.
            case = operation.Case(path_parameters={name: existing[name] for name in names})
            try:
                case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"--- {operation.label} (existing ids)\n{failure}")
    assert operations >= 20, f"only {operations} operations in the schema"
    assert not failures, f"{len(failures)} of {runs} runs failed:\n" + "\n".join(failures)


def fuzz(operation, mode, headers) -> None:
    """Send up to `EXAMPLES` requests generated for `operation` and check each answer.

    (schemathesis' own pytest integration, `schema.parametrize()`, does not
    run under pytest 9, so hypothesis drives its strategies here.)
    """

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)

    check()
