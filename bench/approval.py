"""Approvals for the benchmark: every contract in review waits in an approval whose first step (its team
manager) is done and whose second, a legal countersign (会签), has open tasks for several legal
reviewers; one open task per ten contracts in all (100,000 at a million). And the timings the approval
issue asks for: the navigation bar's counts, and submitting a contract with a 50-page text (flow
selection, pre-review, the first step's tasks), rolled back each time."""

import datetime
import math
import random
import statistics
import time
import uuid

from django.db import connection, transaction

from bench.search_data import PAGE_CHARS, clause_text

REVIEWERS = 12  # legal users sharing the countersign step (bench_legal among them)


def _p95(samples: list[float]) -> float:
    samples = sorted(samples)
    return samples[max(0, int(len(samples) * 0.95) - 1)]


def ensure_approval_tasks(*, target: int) -> tuple[int, float]:
    """(open tasks, seconds to add them): added once per data set, kept when it is reused."""
    from qiyue.accounts.models import User
    from qiyue.contracts.models import Contract, Status
    from qiyue.workflow.models import (
        Approval,
        ApprovalFlow,
        ApprovalStep,
        ApprovalTask,
        StepStatus,
        TaskStatus,
    )

    existing = ApprovalTask.objects.filter(status=TaskStatus.OPEN).count()
    if existing:
        return existing, 0.0
    start = time.perf_counter()
    flow = ApprovalFlow.objects.get(is_default=True)
    version = flow.current
    hashed = User.objects.get(username="bench_legal").password
    reviewers = [User.objects.get(username="bench_legal")] + [
        User.objects.get_or_create(username=f"bench_legal{i}", defaults={"role": "legal", "password": hashed})[0]
        for i in range(1, REVIEWERS)]
    managers = dict(User.objects.filter(role="manager").values_list("team_id", "id"))
    in_review = list(Contract.objects.filter(status=Status.IN_REVIEW, deleted_at__isnull=True)
                     .values_list("id", "team_id", "owner_id", "status_changed_at", "created_at").order_by("pk"))
    per_contract = max(1, min(REVIEWERS, math.ceil(target / max(1, len(in_review)))))
    rng = random.Random(5)
    now = datetime.datetime.now(datetime.UTC)
    for offset in range(0, len(in_review), 2000):
        rows = in_review[offset:offset + 2000]
        with transaction.atomic():
            approvals = Approval.objects.bulk_create([
                Approval(contract_id=pk, flow_version=version, submitted_by_id=owner, current_step=1,
                         risk_level=rng.choice(("none", "low", "medium", "high")), facts={})
                for pk, _team, owner, _changed, _created in rows])
            steps = []
            for approval in approvals:
                steps += [
                    ApprovalStep(approval=approval, index=0, name_zh="主管审批", name_en="Manager approval",
                                 mode="any", status=StepStatus.DONE, round=1),
                    ApprovalStep(approval=approval, index=1, name_zh="法务会签", name_en="Legal countersign",
                                 mode="all", review="legal", status=StepStatus.ACTIVE, round=1),
                    ApprovalStep(approval=approval, index=2, name_zh="财务审核", name_en="Finance review",
                                 mode="any", review="finance", status=StepStatus.UPCOMING)]
            steps = ApprovalStep.objects.bulk_create(steps)
            tasks = []
            for n, (approval, (pk, team, _owner, changed, created)) in enumerate(zip(approvals, rows, strict=True)):
                opened = changed or created or now
                manager = managers.get(team)
                if manager:
                    tasks.append(ApprovalTask(approval=approval, step=steps[3 * n], contract_id=pk,
                                              assignee_id=manager, status=TaskStatus.APPROVED, round=1,
                                              opened_at=opened, decided_at=opened + datetime.timedelta(hours=2)))
                first = rng.randrange(REVIEWERS)
                for k in range(per_contract):
                    tasks.append(ApprovalTask(approval=approval, step=steps[3 * n + 1], contract_id=pk,
                                              assignee=reviewers[(first + k) % REVIEWERS], status=TaskStatus.OPEN,
                                              round=1, opened_at=opened + datetime.timedelta(hours=2)))
            ApprovalTask.objects.bulk_create(tasks, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Approval, ApprovalStep, ApprovalTask):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return ApprovalTask.objects.filter(status=TaskStatus.OPEN).count(), time.perf_counter() - start


def time_navigation_counts(user, repeat: int) -> tuple[float, float]:
    """The navigation bar's two counts (unread notifications, open approval tasks) as a page pays them."""
    from qiyue.notifications.selectors import unread_count
    from qiyue.workflow.selectors import inbox_count

    samples = []
    for n in range(repeat + 3):
        began = time.perf_counter()
        unread_count(user=user)
        inbox_count(user=user)
        if n >= 3:
            samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), _p95(samples)


def _fifty_page_draft(owner):
    """A draft of `owner` with a 50-page extracted text (Chinese clauses, as the search data's)."""
    from qiyue.contracts.models import Contract
    from qiyue.contracts.services import contract_create
    from qiyue.documents.models import Document, DocumentText, DocumentVersion

    customer = Contract.objects.filter(owner=owner).select_related("customer").order_by("pk").first().customer
    contract = contract_create(actor=owner, data={
        "title": "基准五十页合同", "customer": customer,
        "amount": "880000.00", "effective_date": datetime.date(2027, 1, 1), "expiry_date": datetime.date(2028, 12, 31)})
    document = Document.objects.create(contract=contract, customer_id=contract.customer_id, kind="draft",
                                       title="五十页草稿.pdf", created_by=owner)
    version = DocumentVersion.objects.create(
        document=document, number=1, filename="五十页草稿.pdf", file_type="pdf", content_type="application/pdf", size=0,
        sha256="0" * 64, blob_name=uuid.uuid4().hex, key_id="bench", wrapped_key=b"", uploaded_by=owner,
        extraction_status="done", page_count=50)
    text = clause_text(random.Random(50), 50 * PAGE_CHARS)
    DocumentText.objects.create(version=version, text=text, pages=list(range(0, len(text), PAGE_CHARS))[:50])
    document.current_version = version
    document.save(update_fields=["current_version"])
    return contract


def time_submit(owner, repeat: int) -> tuple[float, float, int]:
    """Submitting a draft with a 50-page text: pre-review, flow selection, steps, the first tasks.
    Each submission is rolled back, so every run submits the same draft. Returns (median, p95, pages)."""
    from qiyue.contracts.services import contract_transition

    contract = _fifty_page_draft(owner)
    samples = []
    for n in range(repeat + 3):
        began = time.perf_counter()
        with transaction.atomic():
            contract_transition(actor=owner, contract=contract, name="submit")
            transaction.set_rollback(True)
        if n >= 3:
            samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), _p95(samples), 50
