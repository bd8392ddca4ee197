from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from rest_framework.authtoken.models import Token

from qiyue.core.services import snapshot

from . import events
from .models import Team, User

USER_FIELDS = ("username", "display_name", "email", "role", "team", "is_active")


@transaction.atomic
def team_get_or_create(*, actor, name: str) -> Team:
    team = Team.objects.filter(name=name).first()
    if team is None:
        team = Team(name=name)
        team.full_clean()
        team.save()
        events.team_created_event(actor=actor, team=team, changes=snapshot(team, ("name",)))
    return team


@transaction.atomic
def user_create(*, actor, username: str, role: str, team: Team | None = None, password: str | None = None,
                display_name: str = "", email: str = "", check_password: bool = True) -> User:
    user = User(username=username, role=role, team=team, display_name=display_name, email=email)
    if password:
        if check_password:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    events.user_created_event(actor=actor, user=user, changes=snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> User:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    events.user_password_set_event(actor=actor, user=user)
    return user


@transaction.atomic
def token_issue(*, actor, user: User) -> Token:
    """The user's API token, created on first request (the key itself is never logged)."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        events.user_token_issued_event(actor=actor, user=user)
    return token
