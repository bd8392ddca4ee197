from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """Optimistic locking: services compare `version` and bump it on every write."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class TagWord(models.Model):
    """One tag in use, per owner and team of the records carrying it: the vocabulary of a tag pick list.

    Kept by the services that save tags (see qiyue.core.tags). `owner_id` and `team_id` (0 for no team)
    are the visibility keys `qiyue.core.permissions.visible` filters on, so a pick list offers only the
    tags of records its user may see. A tag stays in the vocabulary after its last record drops it.
    """

    team_id = models.BigIntegerField(default=0)
    owner_id = models.BigIntegerField()
    name = models.CharField(max_length=100)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name
