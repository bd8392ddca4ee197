"""Who sees and who edits customers and contracts: the one scoping rule of R9.1.

- admin, legal, finance and auditor see every customer and contract;
- manager and sales see what they own and what belongs to their team;
- only admin, manager and sales write, and only within what they see;
- the auditor reads everything and writes nothing.

Every list, detail page, API endpoint, export and dashboard count goes through `visible`,
so a user who may not see an object gets a 404 and never its data, its count or its row.
"""

from django.db.models import Q, QuerySet
from django.db.models.sql.where import AND, OR
from django.utils.translation import gettext as _

from .errors import ApplicationError, ErrorCode
from .roles import EDITOR_ROLES, SEE_ALL_ROLES, Role


def _owner_or_team(user, prefix: str) -> Q:
    q = Q(**{f"{prefix}owner_id": user.pk})
    if user.team_id:
        q |= Q(**{f"{prefix}team_id": user.team_id})
    return q


def visible(user, queryset: QuerySet, *, via: str = "") -> QuerySet:
    """Restrict `queryset` to rows `user` may see. `via` is the path to the owning object,
    e.g. "customer__" for contacts, so they follow their customer's visibility."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.role in SEE_ALL_ROLES:
        return queryset
    if user.role in (Role.MANAGER, Role.SALES):
        return queryset.filter(_owner_or_team(user, via))
    return queryset.none()


# More of a user's own rows in other teams than this are found by subquery, not by a list of ids.
ELSEWHERE_IDS = 1_000


def visible_parts(user, queryset: QuerySet) -> list[QuerySet]:
    """`queryset` (already narrowed by `visible`) as disjoint parts that one index each answers: for
    manager and sales, the team's rows and their own rows outside the team. Lists count and page
    the parts (see CappedPaginator): an OR of owner and team makes SQLite read and sort every row of
    the team to show the newest twenty."""
    fields = {field.name for field in queryset.model._meta.get_fields()}
    if user.role not in (Role.MANAGER, Role.SALES) or not user.team_id or not {"owner", "team"} <= fields:
        return [queryset]
    team = user.team_id
    # Each part restates the rule on its own, so the OR comes out of its query: PostgreSQL
    # multiplies "owner = me OR team = T" with the part's "team = T" into a tiny estimate and then
    # sorts a bitmap instead of walking the team's index.
    queryset = _without_scope(queryset, user)
    # The user's rows in other teams are few (usually none): their ids come first, from an
    # (owner, team) index, as a list. A subquery instead, next to an ORDER BY, lets a planner walk
    # the whole table newest first testing each row against it (1.3 s on PostgreSQL at a million).
    # "Not my team" as three ranges the index can seek (NOT team = T makes PostgreSQL read the rows).
    elsewhere = queryset.model._base_manager.filter(
        Q(team_id__lt=team) | Q(team_id__gt=team) | Q(team_id__isnull=True), owner_id=user.pk)
    ids = list(elsewhere.order_by().values_list("pk", flat=True)[:ELSEWHERE_IDS + 1])
    if not ids:
        return [queryset.filter(team_id=team)]
    if len(ids) > ELSEWHERE_IDS:
        return [queryset.filter(team_id=team), queryset.filter(pk__in=elsewhere.values("pk"))]
    return [queryset.filter(team_id=team), queryset.filter(pk__in=ids)]


def _without_scope(queryset: QuerySet, user) -> QuerySet:
    """`queryset` without the owner-or-team condition `visible` added (only when it is found exactly
    as `visible` writes it); callers narrow each part to rows the rule lets the user see."""
    clone = queryset.all()
    where = clone.query.where
    for child in where.children:
        terms = getattr(child, "children", None)
        if where.connector != AND or getattr(child, "connector", None) != OR or not terms or child.negated:
            continue
        found = {(getattr(getattr(t.lhs, "target", None), "attname", None), t.rhs, t.lookup_name) for t in terms}
        if found == {("owner_id", user.pk, "exact"), ("team_id", user.team_id, "exact")}:
            where.children.remove(child)
            return clone
    return queryset


def can_see(user, obj) -> bool:
    """`visible` for one loaded row (anything with owner and team): the same rule, without a query."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if getattr(obj, "deleted_at", None) is not None:
        return False
    if user.role in SEE_ALL_ROLES:
        return True
    if user.role in (Role.MANAGER, Role.SALES):
        return obj.owner_id == user.pk or (user.team_id is not None and obj.team_id == user.team_id)
    return False


def sees_all(user) -> bool:
    return user.role in SEE_ALL_ROLES


def can_edit(user, obj) -> bool:
    """May `user` change `obj` (anything with owner and team)? Visibility is checked first by the caller."""
    if not user.is_authenticated or not user.is_active or user.role not in EDITOR_ROLES:
        return False
    if user.role == Role.ADMIN:
        return True
    return obj.owner_id == user.pk or (user.team_id is not None and obj.team_id == user.team_id)


def can_create(user) -> bool:
    return user.is_authenticated and user.is_active and user.role in EDITOR_ROLES


def can_read_audit_log(user) -> bool:
    return user.is_authenticated and user.is_active and user.role in (Role.ADMIN, Role.AUDITOR)


def can_manage_users(user) -> bool:
    return user.is_authenticated and user.is_active and user.role == Role.ADMIN


def check_assignment(actor, owner, team) -> None:
    """Sales and managers assign records only within their own team (or to themselves)."""
    if actor.role == Role.ADMIN or owner is None:
        return
    if owner.pk != actor.pk and (actor.team_id is None or owner.team_id != actor.team_id):
        raise ApplicationError(ErrorCode.INVALID, _("You can only assign records to yourself or your team."),
                               fields={"owner": [_("Choose yourself or a member of your team.")]})
    if team is not None and team.pk != actor.team_id:
        raise ApplicationError(ErrorCode.INVALID, _("You can only assign records to your own team."),
                               fields={"team": [_("Choose your own team.")]})
