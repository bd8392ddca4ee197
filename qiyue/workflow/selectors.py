from django.db.models import QuerySet

from .models import PreReviewRule, PreReviewRun


def prereview_rules(*, active_only: bool = True) -> QuerySet:
    rows = PreReviewRule.objects.order_by("position", "key")
    return rows.filter(active=True) if active_only else rows


def latest_prereview(*, contract) -> PreReviewRun | None:
    return PreReviewRun.objects.filter(contract=contract).order_by("-ran_at", "-pk").first()
