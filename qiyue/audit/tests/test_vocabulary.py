"""Each app declares its audit actions (events.py); the audit app collects them. Events roll up to the
timelines of the objects they name in `related`."""

import re
from pathlib import Path

import pytest

from qiyue.audit.models import AuditEvent
from qiyue.audit.registry import action_codes, action_label, register_actions
from qiyue.audit.selectors import timeline
from qiyue.audit.services import audit_record
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.models import Communication
from qiyue.customers.services import communication_create

ROOT = Path(__file__).resolve().parents[2]


def test_every_action_written_in_the_code_is_declared_with_a_label():
    used = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        used |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert used, "no action codes found: the pattern is out of date"
    assert used <= set(action_codes()), sorted(used - set(action_codes()))
    # Every declared action reads as words, not as its code.
    assert all(action_label(code) != code for code in action_codes())


def test_the_audit_app_holds_no_other_apps_vocabulary():
    text = "\n".join(p.read_text() for p in (ROOT / "audit").glob("*.py"))
    assert not re.search(r'"(contract|customer|document|contact|user|team)\.[a-z_]+"', text)


def test_a_code_cannot_be_declared_twice_with_another_label():
    with pytest.raises(ValueError):
        register_actions({"contract.created": "something else"})
    with pytest.raises(ValueError):
        register_actions({"nodot": "x"})


@pytest.mark.django_db
def test_related_names_the_timelines_an_event_rolls_up_to(users):
    """A communication about a contract shows on the contract's and the customer's timelines; an
    event about any object shows on the timeline of the contract it names as related."""
    contract = make_contract(users["sales"])
    record = communication_create(actor=users["sales"], customer=contract.customer,
                                  data={"contract": contract, "occurred_on": "2026-03-01", "channel": "phone",
                                        "summary": "谈付款"})
    created = AuditEvent.objects.get(action="communication.created")
    assert (created.contract_id, created.customer_id) == (contract.pk, contract.customer_id)
    assert created in timeline(contract_id=contract.pk) and created in timeline(customer_id=contract.customer_id)
    # A later module's chain (a payment → its invoice → the contract) names the contract itself.
    from django.db import transaction

    with transaction.atomic():
        event = audit_record(actor=users["sales"], action="communication.created", target=record,
                             related=[(type(contract), contract.pk)])
    assert event.contract_id == contract.pk and event.customer_id is None
    unrelated = Communication.objects.create(customer=contract.customer, author=users["sales"], channel="phone",
                                             occurred_on="2026-03-02", summary="无关")
    with transaction.atomic():
        alone = audit_record(actor=users["sales"], action="communication.created", target=unrelated)
    assert alone.contract_id is None and alone.customer_id is None


def test_views_write_no_access_event_themselves():
    """A view of a record is recorded by the selector that opens it (`contract_open`, `customer_open`,
    `document_open`), or by the service that reads a file: never by a view on its own."""
    written = []
    for path in ROOT.rglob("views.py"):
        text = path.read_text()
        for needle in ("_viewed_event(", "access_record(", "access=True", "Kind.ACCESS"):
            if needle in text:
                written.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not written, written


@pytest.mark.django_db
def test_change_keys_that_are_no_field_read_as_words(users):
    from django.db import transaction
    from django.utils import translation

    from qiyue.audit.rendering import timeline_rows

    contract = make_contract(users["sales"])
    with transaction.atomic():
        audit_record(actor=users["sales"], action="contract.activate", target=contract,
                     changes={"activated_early": [None, "2026-05-01"], "unknown_key": [None, "x"]})
    with translation.override("zh-hans"):
        rows = timeline_rows(timeline(contract_id=contract.pk)[:1], users["sales"])
    fields = [change["field"] for change in rows[0]["changes"]]
    assert sorted(fields) == sorted(["提前生效，原定生效日期", "Unknown_key"])  # jsonb keeps no key order


@pytest.mark.django_db
def test_labels_keep_no_control_characters(users):
    from qiyue.audit.services import printable

    assert printable("合同\r\nFAKE 2026-01-01 admin deleted\x1b[31m!\x00") == \
        "合同\\r\\nFAKE 2026-01-01 admin deleted\\x1b[31m!\\x00"
    assert printable("普通 label\u3000全角") == "普通 label\u3000全角"
    assert printable("abc\u202egpj.exe") == "abc\\u202egpj.exe"
    contract = make_contract(users["sales"], title="正常标题")
    contract.title = "伪造\n第二行\x1b[0m"
    from django.db import transaction

    with transaction.atomic():
        event = audit_record(actor=users["sales"], action="contract.updated", target=contract)
    assert "\n" not in event.target_label and "\x1b" not in event.target_label
    assert event.target_label.endswith("伪造\\n第二行\\x1b[0m")
