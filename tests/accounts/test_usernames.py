"""Names nobody can pass off as someone else's: a username that looks like
an existing user's is refused at sign-up, and a display name may not reorder
or hide what it shows. Pure validation, so tested in process."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import UsernameSkeleton
from accounts.usernames import username_skeleton

pytestmark = pytest.mark.django_db

PASSWORD = "a-Strong-password-1"


def register(api_for, username, **fields):
    return api_for().post(
        "/api/auth/register/", {"username": username, "password": PASSWORD, **fields}, format="json"
    )


def refused(response, field: str) -> str:
    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == {field}, errors
    return " ".join(errors[field])


def test_a_username_with_a_cyrillic_letter_is_refused_beside_its_latin_twin(api_for, alice):
    # "аlice" with U+0430 CYRILLIC SMALL LETTER A.
    message = refused(register(api_for, "\u0430lice"), "username")
    assert "A-Z" in message
    assert get_user_model().objects.filter(username__startswith="\u0430").count() == 0


@pytest.mark.parametrize(
    "lookalike",
    ["aIice", "a1ice", "ALlCE", "aIIce"],
    ids=["capital-I", "digit-1", "l-for-i", "both"],
)
def test_an_ascii_lookalike_of_an_existing_username_is_refused(api_for, alice, lookalike):
    assert "looks like" in refused(register(api_for, lookalike), "username")


@pytest.mark.parametrize(
    "existing, lookalike",
    [("modern", "rnodern"), ("wave", "vvave"), ("bob0", "bobO")],
    ids=["rn-for-m", "vv-for-w", "zero-for-o"],
)
def test_letters_that_draw_as_another_are_lookalikes(api_for, make_user, existing, lookalike):
    make_user(existing)
    assert "looks like" in refused(register(api_for, lookalike), "username")


def test_a_username_that_only_resembles_loosely_is_accepted(api_for, alice):
    for username in ("alicia", "alice_w", "malice"):
        assert register(api_for, username).status_code == 201, username


def test_a_lookalike_of_a_user_made_by_createsuperuser_is_refused(api_for):
    call_command(
        "createsuperuser",
        interactive=False,
        username="operator",
        email="op@example.com",
        verbosity=0,
    )
    assert "looks like" in refused(register(api_for, "0perator"), "username")


def test_a_lookalike_of_a_renamed_user_is_refused_and_the_old_name_is_free(api_for, make_user):
    user = make_user("oldname")
    user.username = "newname"
    user.save()
    assert "looks like" in refused(register(api_for, "newnarne"), "username")
    assert register(api_for, "oldnarne").status_code == 201


def test_every_user_has_a_skeleton_from_the_migration_on(make_user):
    users = [make_user("Carol"), make_user("dave")]
    UsernameSkeleton.objects.all().delete()
    migration = importlib.import_module("accounts.migrations.0001_initial")
    migration.fill_skeletons(apps, None)
    assert {row.user_id: row.skeleton for row in UsernameSkeleton.objects.all()} == {
        user.pk: username_skeleton(user.username) for user in users
    }


def test_skeletons_fold_case_and_lookalikes():
    assert username_skeleton("AIice") == username_skeleton("alice") == username_skeleton("a1ice")
    assert username_skeleton("\u0430lice") == username_skeleton("alice")  # from before ASCII-only
    assert username_skeleton("alice") != username_skeleton("alicia")


@pytest.mark.parametrize(
    "display_name",
    ["Alice \u202eecilA", "\u2066Bob", "\u200b\u200d", "\ufeff"],
    ids=["right-to-left-override", "isolate", "zero-width-only", "bom-only"],
)
def test_a_display_name_that_reorders_or_hides_its_text_is_refused(api_for, display_name):
    message = refused(register(api_for, "zoe", display_name=display_name), "display_name")
    assert "display name" in message
    assert not get_user_model().objects.filter(username="zoe").exists()


def test_a_display_name_in_any_script_is_kept(api_for):
    response = register(api_for, "zoe", display_name="Zoë 李 Ωmega")
    assert response.status_code == 201, response.content
    assert response.json()["display_name"] == "Zoë 李 Ωmega"


def test_a_blank_display_name_shows_the_username(api_for):
    response = register(api_for, "zoe", display_name="")
    assert response.status_code == 201, response.content
    assert response.json()["display_name"] == "zoe"
