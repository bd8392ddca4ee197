"""A document's upload reads on the contract's timeline in the page's language: the keys by their
names, the size as a file size (not a count of bytes)."""

import re

import pytest
from django.conf import settings

from qiyue.audit.models import AuditEvent
from qiyue.audit.rendering import change_lines, model_of
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import services

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "names", "unit"), [
    ("en", ["File name", "Size", "SHA-256", "Version"], "KB"),
    ("zh-hans", ["文件名", "大小", "SHA-256", "版本"], "KB"),
])
def test_an_upload_on_the_contract_timeline(client, users, storage, language, names, unit):
    contract = make_contract(users["sales"], title="采购合同")
    data = f.make_pdf(pages=3)
    services.document_upload(actor=users["sales"], files=[f.upload("报价单.pdf", data)], contract=contract)
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(f"/contracts/{contract.pk}/").content.decode()
    timeline = html[html.index('data-testid="timeline"'):]
    timeline = timeline[:timeline.index("</ul>")]
    labels = re.findall(r'<span class="text-secondary">([^<]*):</span>', timeline)
    for name in names:
        assert name in labels, labels
    assert "Filename" not in timeline and "Sha256" not in timeline
    size_line = re.search(r">(?:Size|大小):</span>\s*([^<]*)<", timeline).group(1).strip()
    assert str(len(data)) not in size_line  # not the size in bytes, raw
    assert unit in size_line and re.fullmatch(r"[\d.]+\s?KB", size_line.replace("\xa0", " ")), size_line


def test_a_size_that_is_not_a_number_is_shown_as_it_is():
    event = AuditEvent(action="document.uploaded", target_type="documents.document", target_id=1,
                       changes={"size": [None, "n/a"], "filename": [None, "a.pdf"]})
    lines = {line["field"]: line["after"] for line in change_lines(event, model_of(event))}
    assert lines == {"Size": "n/a", "File name": "a.pdf"}
