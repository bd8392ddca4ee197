from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One append-only entry of the audit log (R9.2, R9.3).

    Copies of the actor's name and role and the target's label are kept so the record outlives
    what it describes; ids are plain integers, not foreign keys, for the same reason. `seq`
    runs without gaps and `mac` chains each event to the one before (see chain.py).
    """

    class Kind(models.TextChoices):
        CHANGE = "change", _("Change")
        ACCESS = "access", _("Access")
        # Sign-ins, sign-outs, failed sign-ins, lockouts and denied requests.
        SECURITY = "security", _("Security")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        DENIED = "denied", _("Denied")
        FAILED = "failed", _("Failed")

    seq = models.BigIntegerField(_("sequence"), unique=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, db_index=True)
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    actor_role = models.CharField(_("actor role"), max_length=20, blank=True)
    target_type = models.CharField(_("object type"), max_length=50)
    target_id = models.CharField(_("object id"), max_length=64)
    target_label = models.CharField(_("object"), max_length=300, blank=True)
    contract_id = models.BigIntegerField(_("contract id"), null=True)
    customer_id = models.BigIntegerField(_("customer id"), null=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    # Blank on events from before these were recorded (chain version 1).
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    correlation_id = models.CharField(_("client request id"), max_length=64, blank=True)
    # Which fields the MAC covers (chain.CHAINED_FIELDS): rows written before a version existed are 1.
    chain_version = models.PositiveSmallIntegerField(_("chain version"), default=1)
    mac = models.CharField(_("chain MAC"), max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["contract_id", "-seq"], name="audit_contract_seq"),
            models.Index(fields=["customer_id", "-seq"], name="audit_customer_seq"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.target_label}"
