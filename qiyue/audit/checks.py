"""System checks of the audit checkpoints' settings (`qiyue check`; errors stop `serve` and `migrate`)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .checkpoints import destinations, file_problem


def checkpoint_settings(app_configs=None, **kwargs):
    errors = []
    path = settings.QIYUE_AUDIT_CHECKPOINT_FILE
    if path and (problem := file_problem(path)):
        errors.append(checks.Error(f"QIYUE_AUDIT_CHECKPOINT_FILE: {problem}.",
                                   hint="Choose a file on another disk or machine, or an append-only mount.",
                                   id="audit.E001"))
    for address in settings.QIYUE_AUDIT_CHECKPOINT_EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            errors.append(checks.Error(f"QIYUE_AUDIT_CHECKPOINT_EMAIL: {address!r} is not an e-mail address.",
                                       id="audit.E002"))
    return errors


def checkpoint_destination(app_configs=None, **kwargs):
    if destinations():
        return []
    return [checks.Warning(
        "No audit checkpoint destination is configured: removing the newest audit events would go unnoticed.",
        hint="Set QIYUE_AUDIT_CHECKPOINT_FILE (outside the data directory), QIYUE_AUDIT_CHECKPOINT_SYSLOG or "
             "QIYUE_AUDIT_CHECKPOINT_EMAIL; see docs/operations.md.",
        id="audit.W001")]


def register() -> None:
    checks.register(checkpoint_settings, "audit")
    checks.register(checkpoint_destination, "audit", deploy=True)
