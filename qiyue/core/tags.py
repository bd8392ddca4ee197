"""The tag vocabulary behind the tag pick lists (see TagWord): remembered as records are saved,
read through the same visibility as the records."""

from collections.abc import Iterable

from django.db.models import QuerySet

from qiyue.core.permissions import visible

PICK_LIST_SIZE = 500


def remember(model, *, owner_id: int, team_id: int | None, tags: str) -> None:
    """Add the comma-separated `tags` of a record owned by `owner_id` in `team_id` to `model`'s vocabulary."""
    names = {t for t in tags.split(",") if t}
    if names:
        model.objects.bulk_create([model(owner_id=owner_id, team_id=team_id or 0, name=n[:100]) for n in names],
                                  ignore_conflicts=True)


def backfill(model, records: QuerySet) -> int:
    """Fill `model`'s vocabulary from the tags of `records` (a migration, a bulk load); returns the rows added."""
    before = model.objects.count()
    rows = (records.exclude(tags="").values_list("owner_id", "team_id", "tags").distinct().order_by()
            .iterator(chunk_size=5000))
    seen: set[tuple[int, int, str]] = set()
    batch = []
    for owner_id, team_id, tags in rows:
        for name in tags.split(","):
            key = (owner_id, team_id or 0, name[:100])
            if name and key not in seen:
                seen.add(key)
                batch.append(model(owner_id=key[0], team_id=key[1], name=key[2]))
        if len(batch) >= 5000:
            model.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    model.objects.bulk_create(batch, ignore_conflicts=True)
    return model.objects.count() - before


def names(model, *, user, also: Iterable[str] = ()) -> list[str]:
    """The tags of the records `user` may see (at most PICK_LIST_SIZE, by name), plus `also`."""
    found = set(visible(user, model.objects.all()).order_by("name").values_list("name", flat=True)
                .distinct()[:PICK_LIST_SIZE])
    found.update(t for t in also if t)
    return sorted(found)
