"""The system actor: who acts when no person does.

The task worker, scheduled jobs (reminders, backups, the expiry of contracts), approvals that
complete on their own and incoming webhooks call the same services as people do, with `SYSTEM` as
the actor. Policies decide what the system may do (it sees every record, and may take only the
actions a policy grants it); the audit log records it as "system", with no user id.
"""

SYSTEM_NAME = "system"
SYSTEM_ROLE = "system"


class SystemActor:
    """Quacks like an active, authenticated user with the role "system", no id and no team."""

    pk = id = None
    team_id = team = None
    role = SYSTEM_ROLE
    username = display_name = SYSTEM_NAME
    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = is_superuser = False

    def __str__(self) -> str:
        return SYSTEM_NAME

    def __repr__(self) -> str:
        return "<SystemActor>"

    def __eq__(self, other) -> bool:
        return isinstance(other, SystemActor)

    def __hash__(self) -> int:
        return hash(SystemActor)


SYSTEM = SystemActor()


def is_system(actor) -> bool:
    return isinstance(actor, SystemActor)
