"""Who sees what: the one scoping rule of R9.1, written once as a `Scope` built from the user.

- admin, legal, finance and auditor (and the system actor) see every customer and contract;
- manager and sales see what they own and what belongs to their team;
- anyone else (an inactive or anonymous user) sees nothing.

The scope renders itself three ways, which can never disagree because they read the same three
facts (sees all, owner id, team id):

- `Scope.filter(queryset)`: the queryset filter every list, page, API endpoint, export and count uses
  (`visible`);
- `Scope.allows(row)`: the same rule for one loaded row (`can_see`);
- `Scope.search_keys()`: the key tokens one of which a search index entry must carry.

Who may *change* what is not here: each app's `policies.py` answers that, asking the scope first.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .actors import is_system
from .roles import SEE_ALL_ROLES, Role

# Roles whose scope is their own and their team's rows.
TEAM_SCOPED_ROLES = frozenset({Role.MANAGER, Role.SALES})
# More of a user's own rows in other teams than this are found by subquery, not by a list of ids.
ELSEWHERE_IDS = 1_000


@dataclass(frozen=True)
class Scope:
    sees_all: bool = False
    owner_id: int | None = None
    team_id: int | None = None

    @classmethod
    def of(cls, user) -> "Scope":
        if user is None or not user.is_authenticated or not user.is_active:
            return NOTHING
        if is_system(user) or user.role in SEE_ALL_ROLES:
            return EVERYTHING
        if user.role in TEAM_SCOPED_ROLES:
            return cls(owner_id=user.pk, team_id=user.team_id)
        return NOTHING

    @property
    def sees_nothing(self) -> bool:
        return not self.sees_all and self.owner_id is None

    def q(self, via: str = "") -> Q:
        """The rule as a filter on rows with `owner` and `team` (through `via`, e.g. "customer__")."""
        q = Q(**{f"{via}owner_id": self.owner_id})
        if self.team_id is not None:
            q |= Q(**{f"{via}team_id": self.team_id})
        return q

    def filter(self, queryset: QuerySet, *, via: str = "") -> QuerySet:
        if self.sees_all:
            return queryset
        if self.sees_nothing:
            return queryset.none()
        scoped = queryset.filter(self.q(via))
        if not via and isinstance(queryset, ScopedQuerySet):
            # Keep the unscoped rows beside it: `parts` builds the fast list parts from them.
            scoped._scope_base = queryset._without_scope_base()
        return scoped

    def allows(self, row) -> bool:
        """The rule for one loaded row with `owner_id` and `team_id`; a (softly) deleted row is gone."""
        if getattr(row, "deleted_at", None) is not None:
            return False
        if self.sees_all:
            return True
        if self.sees_nothing:
            return False
        return row.owner_id == self.owner_id or (self.team_id is not None and row.team_id == self.team_id)

    def search_keys(self) -> tuple[str, ...] | None:
        """None: no restriction; (): nothing; else the keys one of which an index entry must carry
        (see qiyue.search.indexing.key_tokens: "_o<owner id>", "_t<team id>")."""
        if self.sees_all:
            return None
        if self.sees_nothing:
            return ()
        return (f"_o{self.owner_id}",) + ((f"_t{self.team_id}",) if self.team_id is not None else ())

    def parts(self, queryset: QuerySet) -> list[QuerySet]:
        """The rows of `queryset` this scope allows as disjoint parts that one index each answers, or
        None when the scope is one part: for a team member, the team's rows and their own rows
        outside the team. Lists count and page the parts (see CappedPaginator): an OR of owner and
        team makes SQLite read and sort every row of the team to show the newest twenty, and
        PostgreSQL multiply it into a tiny estimate and sort a bitmap."""
        if self.sees_all or self.sees_nothing or self.team_id is None:
            return None
        team = self.team_id
        # The user's rows in other teams are few (usually none): their ids come first, from an
        # (owner, team) index, as a list. A subquery instead, next to an ORDER BY, lets a planner walk
        # the whole table newest first testing each row against it (1.3 s on PostgreSQL at a million).
        # "Not my team" as three ranges the index can seek (NOT team = T makes PostgreSQL read the rows).
        elsewhere = queryset.model._base_manager.filter(
            Q(team_id__lt=team) | Q(team_id__gt=team) | Q(team_id__isnull=True), owner_id=self.owner_id)
        ids = list(elsewhere.order_by().values_list("pk", flat=True)[:ELSEWHERE_IDS + 1])
        if not ids:
            return [queryset.filter(team_id=team)]
        if len(ids) > ELSEWHERE_IDS:
            return [queryset.filter(team_id=team), queryset.filter(pk__in=elsewhere.values("pk"))]
        return [queryset.filter(team_id=team), queryset.filter(pk__in=ids)]


EVERYTHING = Scope(sees_all=True)
NOTHING = Scope()


class ScopedQuerySet(QuerySet):
    """The queryset of a model with `owner` and `team`. After `visible`, it keeps beside itself the
    same query without the scope (every later filter, ordering and related-row loading applied to
    both), so a list can be counted and paged in the scope's parts (`visible_parts`) without taking
    the rule back out of the SQL. Each part restates the rule on its own (team = T; or the user's
    own ids), so no row outside the scope can enter a part even if a later step were not mirrored."""

    _scope_base: QuerySet | None = None

    def _clone(self):
        clone = super()._clone()
        clone._scope_base = self._scope_base
        return clone

    def _without_scope_base(self):
        clone = self.all()
        clone._scope_base = None
        return clone

    def _mirror(self, clone, method: str, *args, **kwargs):
        if self._scope_base is not None:
            clone._scope_base = getattr(self._scope_base, method)(*args, **kwargs)
        return clone

    def _filter_or_exclude(self, negate, args, kwargs):
        clone = super()._filter_or_exclude(negate, args, kwargs)
        return self._mirror(clone, "_filter_or_exclude", negate, args, kwargs)

    def complex_filter(self, filter_obj):
        return self._mirror(super().complex_filter(filter_obj), "complex_filter", filter_obj)

    def annotate(self, *args, **kwargs):
        return self._mirror(super().annotate(*args, **kwargs), "annotate", *args, **kwargs)

    def alias(self, *args, **kwargs):
        return self._mirror(super().alias(*args, **kwargs), "alias", *args, **kwargs)

    def none(self):
        return self._mirror(super().none(), "none")

    def distinct(self, *fields):
        return self._mirror(super().distinct(*fields), "distinct", *fields)

    def order_by(self, *fields):
        return self._mirror(super().order_by(*fields), "order_by", *fields)

    def reverse(self):
        return self._mirror(super().reverse(), "reverse")

    def select_related(self, *fields):
        return self._mirror(super().select_related(*fields), "select_related", *fields)

    def prefetch_related(self, *lookups):
        return self._mirror(super().prefetch_related(*lookups), "prefetch_related", *lookups)

    def only(self, *fields):
        return self._mirror(super().only(*fields), "only", *fields)

    def defer(self, *fields):
        return self._mirror(super().defer(*fields), "defer", *fields)


class LiveQuerySet(ScopedQuerySet):
    """For models deleted only softly (`deleted_at`): `live()` is every row that is not deleted."""

    def live(self):
        return self.filter(deleted_at__isnull=True)


def visible(user, queryset: QuerySet, *, via: str = "") -> QuerySet:
    """Restrict `queryset` to rows `user` may see. `via` is the path to the owning object,
    e.g. "customer__" for contacts, so they follow their customer's visibility."""
    return Scope.of(user).filter(queryset, via=via)


def visible_parts(user, queryset: QuerySet) -> list[QuerySet]:
    """`queryset` (narrowed by `visible`) as the disjoint parts of the user's scope (see Scope.parts),
    or [queryset] when it is one part."""
    base = getattr(queryset, "_scope_base", None)
    parts = Scope.of(user).parts(base) if base is not None else None
    return parts or [queryset]


def can_see(user, obj) -> bool:
    """`visible` for one loaded row (anything with owner and team): the same rule, without a query."""
    return Scope.of(user).allows(obj)


def visible_ids(user, model, ids) -> set:
    """Which of these ids of `model` (with owner and team) `user` may see, not (softly) deleted."""
    ids = set(ids)
    if not ids:
        return set()
    rows = model._base_manager.filter(pk__in=ids)
    if any(f.name == "deleted_at" for f in model._meta.get_fields()):
        rows = rows.filter(deleted_at__isnull=True)
    return set(visible(user, rows).values_list("pk", flat=True))


def is_scoped_model(model) -> bool:
    """Whether rows of `model` are seen through the scope (they have an owner and a team)."""
    names = {f.name for f in model._meta.get_fields()}
    return {"owner", "team"} <= names


def sees_all(user) -> bool:
    return Scope.of(user).sees_all
