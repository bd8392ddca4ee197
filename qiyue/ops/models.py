from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicJobRun(models.Model):
    """Where a periodic job (qiyue.core.jobs) stands, one row per job name, shared by every worker.
    A worker runs a job only after claiming it with one compare-and-set UPDATE of this row (see
    qiyue.ops.jobs), so two workers never run the same job at once or twice in one period."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    last_started_at = models.DateTimeField(_("last started at"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # Set while a run is under way: until then no other worker starts the job (a worker that died
    # mid-run holds it no longer than this).
    running_until = models.DateTimeField(_("running until"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")

    def __str__(self):
        return self.name
