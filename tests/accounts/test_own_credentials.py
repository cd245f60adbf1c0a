"""#13: a person changes their own password (giving the current one) and keeps their own API
tokens; each change is on the audit chain. Nobody does either for someone else."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from backoffice.accounts.models import ApiToken
from backoffice.audit.models import AuditEvent
from backoffice.base.actor import Actor

User = get_user_model()
OLD, NEW = "the-old-Passphrase-1", "a-new-Passphrase-for-paul-2"


@pytest.fixture
def paul(demo_bank: Any) -> Any:
    user = User.objects.get(username="paul.meyer")
    user.set_password(OLD)
    user.save()
    return user


def test_changing_ones_own_password_needs_the_current_one_and_is_audited(
    paul: Any, client: Any
) -> None:
    client.force_login(paul)
    wrong = client.post(
        "/password/", {"old_password": "guess", "new_password1": NEW, "new_password2": NEW}
    )
    assert wrong.status_code == 200  # the form again
    assert not AuditEvent.objects.filter(action="auth.password.changed").exists()
    done = client.post(
        "/password/", {"old_password": OLD, "new_password1": NEW, "new_password2": NEW}
    )
    assert done.status_code == 302 and done["Location"] == "/password/done/"
    paul.refresh_from_db()
    assert paul.check_password(NEW)
    event = AuditEvent.objects.get(action="auth.password.changed")
    assert (event.actor, event.object_id) == ("paul.meyer", "paul.meyer")
    assert NEW not in str(event.to_chained().as_dict()) and OLD not in str(event.before)
    assert client.get("/").status_code == 200  # still logged in with the new password


def test_own_tokens_are_created_shown_once_and_revoked_on_the_settings_page(
    paul: Any, client: Any
) -> None:
    client.force_login(paul)
    page = client.post("/settings/tokens/", {"name": "export script"})
    assert page.status_code == 200
    row = ApiToken.objects.get(user=paul)
    token = page.context["new_token"]
    assert token.startswith(row.prefix) and token in page.content.decode()
    assert token not in client.get("/settings/").content.decode()  # shown once
    created = AuditEvent.objects.get(action="accounts.token.created")
    assert created.actor == "paul.meyer" and created.reason == "own token"
    assert client.post(f"/settings/tokens/{row.pk}/revoke/").status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    revoked = AuditEvent.objects.get(action="accounts.token.revoked")
    assert revoked.actor == "paul.meyer"


def test_nobody_revokes_someone_elses_token_on_their_settings_page(paul: Any, client: Any) -> None:
    from backoffice.accounts.services import do_create_own_token

    do_create_own_token(paul, name="mine")
    row = ApiToken.objects.get(user=paul)
    client.force_login(User.objects.get(username="lena.schulz"))
    assert client.post(f"/settings/tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_the_token_command_makes_only_ones_own_token_with_ones_password(
    paul: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("guess\n"))
    with pytest.raises(CommandError, match="token for someone else is a user-admin case"):
        call_command("token", "create", "paul.meyer", "--password-stdin")
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id="paul.meyer").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO(OLD + "\n"))
    out = io.StringIO()
    call_command("token", "create", "paul.meyer", "--password-stdin", "--name", "x", stdout=out)
    assert out.getvalue().startswith("bo_")
    created = AuditEvent.objects.get(action="accounts.token.created")
    assert created.actor == "paul.meyer"  # his own, not the shell's


@pytest.mark.parametrize("command", ["createsuperuser", "changepassword"])
def test_createsuperuser_and_changepassword_are_refused(demo_bank: Any, command: str) -> None:
    args = ["--noinput", "--username", "root", "--email", "r@x.example"]
    if command == "changepassword":
        args = ["hanna.schroeder"]
    with pytest.raises(CommandError, match="docs/identities.md"):
        call_command(command, *args)
    assert not User.objects.filter(is_superuser=True).exists()
    refused = AuditEvent.objects.get(action="accounts.command_refused")
    assert refused.object_id == command and refused.actor.startswith("cli")


def test_saving_a_superuser_is_refused(demo_bank: Any) -> None:
    from backoffice.core.errors import DomainError

    hanna = User.objects.get(username="hanna.schroeder")
    hanna.is_superuser = True
    with pytest.raises(DomainError, match="no superusers"):
        hanna.save()
    with pytest.raises(DomainError, match="no superusers"):
        User.objects.create_superuser("root", "r@x.example", "a-long-Passphrase-9")
    assert not User.objects.filter(is_superuser=True).exists()


def test_a_superuser_forced_into_the_database_has_no_permission(demo_bank: Any) -> None:
    """The backend grants no Django permission; Backoffice asks its roles only."""

    from backoffice.accounts.backends import PersonBackend

    User.objects.filter(username="tim.hartmann").update(is_superuser=True, is_staff=True)
    tim = User.objects.get(username="tim.hartmann")
    backend = PersonBackend()
    assert backend.get_all_permissions(tim) == set()
    assert not backend.has_perm(tim, "auth.change_user")
    assert not backend.has_module_perms(tim, "auth")
    assert "audit.read" not in Actor(tim).permissions
