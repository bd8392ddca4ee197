"""Every page, as every role, in both languages, at 1440 and 390 px, in a real Chromium (Debian's), on the
demo company plus a contract's documents. Each page must:

- answer 200;
- fit the window: nothing wider than the viewport (a wide table scrolls inside its own box);
- keep every number, date, amount and name cell (`data-col`) on one line, measured from its line boxes;
- show no untranslated string: no line of the rendered text is a catalogue entry left in the other
  language (an English msgid on a Chinese page, or a Chinese translation on an English page);
- pass axe-core (vendored under vendor/axe-core, WCAG 2.1 A and AA rules) with no serious or critical
  violation: labels, contrast (badges included), names of buttons and links, ARIA use.

On PostgreSQL, every page as the admin in both languages at 1440 px (the rest on SQLite). A screenshot
of each page is kept for review under var/test-artifacts/pages/<language>-<width>/<database>/
(QIYUE_SCREENSHOT_DIR).
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from qiyue.accounts.models import Team, User
from qiyue.contracts.models import Contract, CustomField
from qiyue.contracts.selectors import contract_queryset
from qiyue.core.permissions import visible
from qiyue.core.tests.test_i18n import parse_po
from qiyue.customers.models import Customer
from qiyue.documents import services as document_services
from qiyue.documents.extraction import run_extraction
from qiyue.documents.models import Document
from qiyue.documents.tests import factories as f
from qiyue.documents.tests.factories import storage_fixture  # noqa: F401  (the `storage` fixture)
from qiyue.ops import demo
from qiyue.ops.tests.test_browser import browser_page  # noqa: F401  (the fixture)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
CATALOGUE = Path(settings.BASE_DIR) / "qiyue" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SHOTS = Path(os.environ.get("QIYUE_SCREENSHOT_DIR", Path(settings.BASE_DIR) / "var" / "test-artifacts" / "pages"))
# The page's text as read, without what is marked translate="no" (user data in a pick list, such as
# the tags in use, which may be any word of either language).
TEXT_OF_PAGE = """() => {
    const hidden = [...document.querySelectorAll('[translate=no]')].filter(e => e.style.display !== 'none');
    hidden.forEach(e => { e.style.display = 'none'; });
    const text = document.body.innerText;
    hidden.forEach(e => { e.style.display = ''; });
    return text;
}"""
ROLES_WIDE = ("admin", "manager", "sales", "legal", "finance", "auditor")
ROLES_NARROW = ("admin", "sales")
# Lines that are the same in both languages by design (names, codes), though the catalogue lists them.
SAME_IN_BOTH = {"API", "Qiyue", "契约", "CNY", "USD", "EUR", "PDF", "DOCX", "XLSX", "OK", "—"}
# The API reference is Swagger UI (vendored, third-party) showing the OpenAPI schema, which is written in
# English for integrators: its text is not translated and its own markup is outside our templates
# (axe: nested-interactive in its operation rows, no lang on its <html>). Checked for status and width.
NOT_CHECKED = {"api-docs": ("untranslated", "axe")}

LINES_OF = """(selector) => [...document.querySelectorAll(selector)].filter(e => e.offsetParent !== null)
  .map(e => { const r = document.createRange(); r.selectNodeContents(e);
              const tops = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top)));
              return [e.getAttribute('data-col'), e.innerText.trim(), tops.size]; })
  .filter(([col, text, n]) => n > 1)"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""


def _untranslated_lines() -> tuple[set[str], set[str]]:
    """(English msgids with a different Chinese translation, those Chinese translations)."""
    english, chinese = set(), set()
    for (_context, msgid), (strs, _fuzzy) in parse_po(CATALOGUE).items():
        if not msgid or not strs or not strs[0] or strs[0] == msgid or "%" in msgid or "{" in msgid:
            continue
        if len(msgid) >= 3 and re.search(r"[A-Za-z]{3}", msgid) and msgid not in SAME_IN_BOTH:
            english.add(msgid)
        if re.search(r"[\u4e00-\u9fff]", strs[0]) and strs[0] not in SAME_IN_BOTH:
            chinese.add(strs[0])
    return english, chinese


def _world():
    """The demo company, and a contract of team East with a PDF, a Word file and a version history."""
    demo.load_demo(seed=2026)
    manager = User.objects.get(username="manager")
    contract = contract_queryset(user=manager).filter(parent__isnull=True).order_by("pk").first()
    sales = User.objects.get(username="sales")
    docs = document_services.document_upload(actor=sales, contract=contract, files=[
        f.upload("合同正文.pdf", f.make_pdf(pages=2)), f.upload("报价说明.docx", f.make_docx())])
    for document in docs:
        run_extraction(document.current_version.pk)
    # A contract type with custom fields, the contract of that type with its values.
    from qiyue.contracts import services as contract_services

    admin = User.objects.get(username="admin")
    lease = contract_services.contract_type_save(actor=admin, contract_type=None,
                                                 data={"name_zh": "租赁合同", "name_en": "Lease", "active": True})
    for position, (key, kind, zh, en, choices) in enumerate((
            ("site", "text", "场地地址", "Site address", ""), ("area", "number", "面积", "Area", ""),
            ("region", "choice", "区域", "Region", "east | 华东 | East\nwest | 华西 | West"))):
        contract_services.custom_field_save(actor=admin, contract_type=lease, field=None, data={
            "key": key, "kind": kind, "label_zh": zh, "label_en": en, "choices": choices, "position": position,
            "active": True})
    Contract.objects.filter(pk=contract.pk).update(contract_type=lease)
    contract.refresh_from_db()
    from qiyue.contracts import custom_fields

    custom_fields.save_values(contract, custom_fields.clean_values(lease, {
        "site": "上海市浦东新区张江路 88 号", "area": "1250.5", "region": "east"}))
    return contract


def _pages(user, contract) -> list[tuple[str, str]]:
    from qiyue.accounts.policies import can_manage_users
    from qiyue.audit.policies import can_read_audit_log
    from qiyue.contracts import policies as contract_policies
    from qiyue.customers import policies as customer_policies

    mine = contract if contract_queryset(user=user).filter(pk=contract.pk).exists() else (
        contract_queryset(user=user).order_by("pk").first())
    customer = visible(user, Customer.objects.all()).order_by("pk").first()
    pages = [("dashboard", "/"), ("contracts", "/contracts/"), ("customers", "/customers/"),
             ("search", "/search/?q=%E5%90%88%E5%90%8C"), ("archive", "/archive/"), ("two-factor", "/account/two-factor/"),
             ("api-docs", "/api/docs/"), ("notifications", "/notifications/?show=all"),
             ("notification-settings", "/notifications/settings/"), ("inbox", "/workflow/inbox/"),
             ("inbox-decided", "/workflow/inbox/?show=decided"), ("delegation", "/workflow/delegation/"),
             ("receivables", "/finance/receivables/"), ("receivables-overdue", "/finance/receivables/?bucket=overdue"),
             ("invoices", "/finance/invoices/")]
    # A contract in approval the user may see: its approval tab (progress, the user's decision if theirs).
    from qiyue.workflow.models import ApprovalTask

    waiting = ApprovalTask.objects.filter(status="open", contract__in=contract_queryset(user=user)).order_by("pk")
    mine_first = waiting.filter(assignee=user).first() or waiting.first()
    if mine_first is not None:
        pages.append(("contract-approval", f"/contracts/{mine_first.contract_id}/#approval"))
    if mine is not None:
        pages.append(("contract", f"/contracts/{mine.pk}/"))
        if contract_policies.can_edit_contract(user, mine):
            pages.append(("contract-edit", f"/contracts/{mine.pk}/edit/"))
        document = Document.objects.filter(contract=mine).order_by("pk").first()
        if document is not None:
            pages += [("document", f"/documents/{document.pk}/"),
                      ("preview-pdf", f"/documents/versions/{document.current_version_id}/preview/")]
            word = Document.objects.filter(contract=mine, title="报价说明").first()
            if word is not None:
                pages.append(("preview-word", f"/documents/versions/{word.current_version_id}/preview/"))
    if customer is not None:
        pages.append(("customer", f"/customers/{customer.pk}/"))
    if contract_policies.can_create_contract(user):
        pages.append(("contract-new", "/contracts/new/"))
    if customer_policies.can_create_customer(user):
        pages.append(("customer-new", "/customers/new/"))
    if can_read_audit_log(user):
        pages.append(("audit", "/audit/"))
    if can_manage_users(user):
        team = Team.objects.order_by("pk").first()
        pages += [("manage", "/manage/"), ("manage-users", "/manage/users/"),
                  ("manage-user", f"/manage/users/{User.objects.get(username='sales').pk}/"),
                  ("manage-new-user", "/manage/users/new/"), ("manage-teams", "/manage/teams/"),
                  ("manage-team", f"/manage/teams/{team.pk}/"), ("retention", "/archive/retention/")]
        from qiyue.contracts.models import ContractType

        lease = ContractType.objects.order_by("pk").first()
        field = CustomField.objects.filter(contract_type=lease).order_by("pk").first()
        pages += [("manage-types", "/manage/contract-types/"), ("manage-type", f"/manage/contract-types/{lease.pk}/"),
                  ("manage-field", f"/manage/contract-types/{lease.pk}/fields/{field.pk}/")]
        from qiyue.workflow.models import ApprovalFlow, PreReviewRule

        pages += [("manage-flows", "/workflow/flows/"),
                  ("manage-flow", f"/workflow/flows/{ApprovalFlow.objects.get(is_default=True).pk}/"),
                  ("manage-new-flow", "/workflow/flows/new/"), ("manage-rates", "/workflow/rates/"),
                  ("manage-rules", "/workflow/rules/"),
                  ("manage-rule", f"/workflow/rules/{PreReviewRule.objects.get(key='risk.late_payment').pk}/")]
    region = CustomField.objects.filter(key="region").first()
    if region is not None:
        pages.append(("contracts-of-type", f"/contracts/?contract_type={region.contract_type_id}"
                                           f"&columns=title,status,amount,cf{region.pk}"))
    return pages


def _sign_in(page, base: str, user) -> None:
    """The user's session, made the way the log-in page makes one, handed to the browser."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base}])


# Settled: the page loaded and no HTMX request (a lazily loaded part: totals, documents) is under way.
# (Playwright's "networkidle" waits half a second more on every page: minutes over the matrix.)
# Loaded, no request under way, and a tab opened from the address (#approval) done fading in (axe would
# measure the contrast of half-transparent text).
SETTLED = """() => document.readyState === 'complete' && !document.querySelector('.htmx-request')
    && [...document.querySelectorAll('.tab-pane.active')].every(p => getComputedStyle(p).opacity === '1')"""


def _settle(page) -> None:
    page.wait_for_function(SETTLED)


def _check_page(page, url: str, *, width: int, language: str, english: set, chinese: set, axe: str,
                skip=()) -> list[str]:
    response = page.goto(url)
    if response is None or response.status != 200:
        return [f"answered {response.status if response else 'nothing'}"]
    _settle(page)
    return _check_current(page, width=width, language=language, english=english, chinese=chinese, axe=axe,
                          skip=skip)


def _check_current(page, *, width: int, language: str, english: set, chinese: set, axe: str, skip=()) -> list[str]:
    problems = []
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width + 1:
        wide = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-responsive, .workspace-tabs, .overflow-auto'))
            .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.'))""", width)
        problems.append(f"{scroll} px wide: {wide}")
    wrapped = page.evaluate(LINES_OF, "td[data-col]")
    if wrapped:
        problems.append(f"wrapped cells: {wrapped[:3]}")
    lines = {line.strip() for line in page.evaluate(TEXT_OF_PAGE).split("\n") if line.strip()}
    stray = sorted(lines & (english if language == "zh-hans" else chinese))
    if stray and "untranslated" not in skip:
        problems.append(f"untranslated: {stray[:5]}")
    if "axe" not in skip:
        violations = page.evaluate(AXE_RUN)
        if violations:
            problems.append(f"axe: {violations}")
    return problems


@pytest.mark.browser
@pytest.mark.parametrize(("language", "width"), [("zh-hans", 1440), ("en", 1440), ("zh-hans", 390), ("en", 390)])
def test_every_page_as_every_role(live_server, transactional_db, settings, browser_page, storage,  # noqa: F811
                                  language, width):
    roles, unchecked = ROLES_WIDE if width > 800 else ROLES_NARROW, ()
    if connection.vendor != "sqlite":
        # The pages hardly depend on the database: on PostgreSQL, every page once as the admin (who sees
        # them all) in each language, axe-core aside (it judges the markup, the same on both databases);
        # every role, the phone width and axe-core on SQLite.
        if width < 800:
            pytest.skip("the phone width is checked on SQLite")
        roles, unchecked = ("admin",), ("axe",)
    settings.LANGUAGE_CODE = language
    contract = _world()
    english, chinese = _untranslated_lines()
    axe = AXE.read_text(encoding="utf-8")
    page = browser_page
    page.context.add_init_script(axe)  # in every page, before its own scripts (the CSP does not apply)
    page.set_viewport_size({"width": width, "height": 900})
    shots = SHOTS / f"{language}-{width}" / connection.vendor
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    for role in roles:
        user = User.objects.get(username=role)
        _sign_in(page, live_server.url, user)
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
        for name, path in _pages(user, contract):
            found = _check_page(page, live_server.url + path, width=width, language=language,
                                english=english, chinese=chinese, axe=axe,
                                skip=(*NOT_CHECKED.get(name, ()), *unchecked))
            page.screenshot(path=str(shots / f"{role}-{name}.png"), full_page=True)
            problems += [f"{role} {path}: {problem}" for problem in found]
            # A workspace's other tabs, each opened as a user would (by a click).
            for tab in page.locator("[data-bs-toggle=tab]").all()[1:] if name in ("contract", "customer") else []:
                key = tab.get_attribute("data-tab")
                tab.click()
                _settle(page)
                # The pane's fade-in: measured once it is opaque (a loaded machine takes longer than 150 ms).
                page.wait_for_function("""() => { const pane = document.querySelector('.tab-pane.active');
                    return pane && getComputedStyle(pane).opacity === '1'; }""")
                found = _check_current(page, width=width, language=language, english=english, chinese=chinese,
                                       axe=axe, skip=unchecked)
                page.screenshot(path=str(shots / f"{role}-{name}-{key}.png"), full_page=True)
                problems += [f"{role} {path}#{key}: {problem}" for problem in found]
    # The log-in page, signed out.
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    problems += [f"anonymous /login/: {p}" for p in _check_page(
        page, live_server.url + "/login/", width=width, language=language, english=english, chinese=chinese, axe=axe,
        skip=unchecked)]
    page.screenshot(path=str(shots / "anonymous-login.png"), full_page=True)
    assert not problems, "\n".join(problems)
    assert not page.page_errors, page.page_errors
    assert Contract.objects.exists()
