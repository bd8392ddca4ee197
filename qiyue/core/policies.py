"""Building blocks of the apps' policies: small predicates over a user (and a row with an owner and a
team), in the style of the `rules` library. Each app's `policies.py` combines them into the answers
to "may this user do this", which views, the API, templates and services all ask."""

from django.utils.translation import gettext as _

from .actors import is_system
from .errors import ApplicationError, ErrorCode
from .permissions import Scope
from .roles import EDITOR_ROLES, Role


def is_active_user(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def has_role(user, roles) -> bool:
    """An active person with one of `roles` (the system actor has none of the people's roles)."""
    return is_active_user(user) and not is_system(user) and user.role in roles


def is_admin(user) -> bool:
    return has_role(user, {Role.ADMIN})


def owns_or_shares_team(user, row) -> bool:
    """`row` (with owner and team) is the user's own, or their team's."""
    return row.owner_id == user.pk or (user.team_id is not None and row.team_id == user.team_id)


def may_create_owned(user) -> bool:
    """Create a row that has an owner and a team (a customer, a contract): the editors."""
    return has_role(user, EDITOR_ROLES)


def may_edit_owned(user, row) -> bool:
    """Change a row with an owner and a team: an admin any, managers and sales their own and their
    team's (visibility is checked first by the caller)."""
    if not has_role(user, EDITOR_ROLES):
        return False
    return user.role == Role.ADMIN or owns_or_shares_team(user, row)


def sees(user, row) -> bool:
    return Scope.of(user).allows(row)


def check_assignment(actor, owner, team) -> None:
    """Who may own a record and which team it may go to. The owner is an active person with an
    editing role, the accounts app's OWNER_ROLES (for everyone, admins included: a record owned by
    someone who cannot edit it is stranded). Sales and managers assign records only within their own
    team (or to themselves), and one who has a team keeps the record in it: no record of theirs
    leaves every team (their manager would lose it). Admins (and the system) may assign any team,
    or none."""
    if owner is not None and not has_role(owner, EDITOR_ROLES):
        raise ApplicationError(ErrorCode.INVALID, _("The owner must be an active user who can edit records."),
                               fields={"owner": [_("Choose an active administrator, manager or sales person.")]})
    if is_system(actor) or actor.role == Role.ADMIN or owner is None:
        return
    if owner.pk != actor.pk and (actor.team_id is None or owner.team_id != actor.team_id):
        raise ApplicationError(ErrorCode.INVALID, _("You can only assign records to yourself or your team."),
                               fields={"owner": [_("Choose yourself or a member of your team.")]})
    if team is None and actor.team_id is not None:
        raise ApplicationError(ErrorCode.INVALID, _("You can only assign records to your own team."),
                               fields={"team": [_("A record of yours must stay in your team.")]})
    if team is not None and team.pk != actor.team_id:
        raise ApplicationError(ErrorCode.INVALID, _("You can only assign records to your own team."),
                               fields={"team": [_("Choose your own team.")]})
