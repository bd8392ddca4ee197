"""The recall check: every query's count from the search against SQL `LIKE` over the same visible
texts (a contract's number, title, customer, parties, tags and description; a customer's name, code,
tags and address; a live document's title and the whole text of its current version).

`LIKE` (Django's `icontains`, as bench/search.py's `icontains` does) finds the candidates, word by
word; each candidate's whole text is then checked with the query's meaning (CJK as a substring,
English words and numbers whole, a quoted phrase's words adjacent), so a word at the start of a long
document and another at its end are one hit, whatever the index's chunks. Counts are compared up to
the search's cap (1,000+).

Two ways of finding the candidates give the same counts (the suite checks it on both databases):
"like" asks the database, one `LIKE` query per word and query; "scan" reads every visible text once
and tests every query's words on it in Python, as `LIKE` does (case-insensitive substrings). A rare
word's `LIKE` reads every document's text: on PostgreSQL at 1,000,000 contracts that took more than
ten minutes per query, where one scan answers all of them in minutes. BENCH_RECALL chooses ("like",
"scan"; default: like on SQLite, scan on PostgreSQL).
"""

import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import Q

QUOTED = re.compile(r'"([^"]*)"?|“([^”]*)”?|(\S+)')
CAP = 1001  # the search counts to 1,000 and says "1,000+" past it
_SEPARATORS = r"[\W_]*"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def phrase_patterns(q: str) -> list[tuple[re.Pattern, str]]:
    """(pattern over a candidate's normalised text, the longest part as the LIKE needle) per word or
    quoted phrase of `q`."""
    from qiyue.search.tokenizer import MAX_QUERY_CHARS, runs

    out = []
    for m in QUOTED.finditer(q[:MAX_QUERY_CHARS]):
        parts = runs(next(g for g in m.groups() if g is not None))
        if not parts:
            continue
        pieces = []
        for index, (run, cjk) in enumerate(parts):
            last = index == len(parts) - 1
            if cjk:
                # A CJK run followed by more of the phrase must end there (its closing unigram).
                pieces.append(re.escape(run) + ("" if last else f"(?![{_CJK}])"))
            else:
                pieces.append(rf"(?<![^\W_{_CJK}]){re.escape(run)}(?![^\W_{_CJK}])")
        needle = max((run for run, _cjk in parts), key=len)
        out.append((re.compile(_SEPARATORS.join(pieces)), needle))
    return out


def _matches(patterns, text: str) -> bool:
    from qiyue.search.tokenizer import normalize

    text = normalize(text)
    return all(p.search(text) for p, _needle in patterns)


def expected_count(user, q: str, filters: dict | None = None) -> int:
    """Distinct objects `user` may see whose visible text holds `q`, counted up to CAP."""
    from django.db import transaction

    # In a transaction, PostgreSQL's server-side cursors (the iterators below) are read only as far
    # as the count goes; outside one Django declares them WITH HOLD, and the whole result (every
    # document text holding a common character: hundreds of megabytes at 1,000,000 contracts) is
    # computed and stored before the first row.
    with transaction.atomic():
        return _expected_count(user, q, filters)


def _expected_count(user, q: str, filters: dict | None) -> int:
    from qiyue.contracts.models import Contract
    from qiyue.contracts.search import contract_text
    from qiyue.core.permissions import visible
    from qiyue.customers.models import Customer
    from qiyue.customers.search import customer_text
    from qiyue.documents.models import DocumentText

    filters = filters or {}
    patterns = phrase_patterns(q)
    if not patterns:
        return 0
    found = 0
    facets = {k: [v] if isinstance(v, str) else list(v) for k, v in filters.items() if k in ("status", "nature")}

    contract_fields = ("number", "title", "customer__name", "our_entity", "counterparty_signatory", "tags",
                       "description")
    where = Q()
    for _p, needle in patterns:
        where &= Q(*[Q(**{f"{f}__icontains": needle}) for f in contract_fields], _connector=Q.OR)
    contracts = visible(user, Contract.objects.live()).filter(where)
    for name, values in facets.items():
        contracts = contracts.filter(**{f"{name}__in": values})
    for row in contracts.values("number", "title", "our_entity", "counterparty_signatory", "tags", "description",
                                "customer__name").iterator(chunk_size=2000):
        if _matches(patterns, contract_text(SimpleNamespace(**row), row["customer__name"])):
            found += 1
            if found >= CAP:
                return CAP

    if not facets:  # customers carry no status or nature: a filtered search finds none
        where = Q()
        for _p, needle in patterns:
            where &= Q(*[Q(**{f"{f}__icontains": needle}) for f in ("name", "credit_code", "tags", "address")],
                       _connector=Q.OR)
        for row in visible(user, Customer.objects.all()).filter(where).values(
                "name", "credit_code", "tags", "address").iterator(chunk_size=2000):
            if _matches(patterns, customer_text(SimpleNamespace(**row))):
                found += 1
                if found >= CAP:
                    return CAP

    # Documents: the current version's text of a live document on a live visible contract (or, without
    # a contract, on a visible customer), with its title in front (the index reads both).
    visible_contracts = visible(user, Contract.objects.live())
    for name, values in facets.items():
        visible_contracts = visible_contracts.filter(**{f"{name}__in": values})
    on_contract = Q(version__document__contract__in=visible_contracts.values("pk"))
    on_customer = Q(version__document__contract__isnull=True,
                    version__document__customer__in=visible(user, Customer.objects.all()).values("pk"))
    where = Q()
    for _p, needle in patterns:
        where &= Q(text__icontains=needle) | Q(version__document__title__icontains=needle)
    texts = (DocumentText.objects.filter(where, on_contract if facets else on_contract | on_customer,
                                         version__document__deleted_at__isnull=True)
             .values_list("version_id", "version__document__current_version_id", "version__document__title", "text"))
    for version_id, current_id, title, text in texts.iterator(chunk_size=200):
        if version_id == current_id and _matches(patterns, f"{title}\n{text}"):
            found += 1
            if found >= CAP:
                return CAP
    return found


@dataclass
class _Pending:
    """One query's scan state: its patterns, lower-cased needles, filters and count per user."""
    patterns: list
    needles: list[str]
    facets: dict
    counts: dict = field(default_factory=dict)

    def open_users(self, labels) -> list:
        return [label for label in labels if self.counts.get(label, 0) < CAP]


def _facet_values(filters: dict) -> dict:
    return {k: [v] if isinstance(v, str) else list(v) for k, v in filters.items() if k in ("status", "nature")}


def expected_counts(users: dict, queries) -> dict[tuple[str, int], int]:
    """{(user label, index of the query): count} as expected_count gives each, from one read of every
    table: each visible text is tested against every query still counting."""
    from django.db import transaction

    with transaction.atomic():  # server-side cursors read as they go (see expected_count)
        return _scan(users, list(queries))


def _scan(users: dict, queries: list) -> dict[tuple[str, int], int]:
    from django.db.models import F

    from qiyue.contracts.models import Contract
    from qiyue.contracts.search import contract_text
    from qiyue.core.permissions import visible
    from qiyue.customers.models import Customer
    from qiyue.customers.search import customer_text
    from qiyue.documents.models import DocumentText
    from qiyue.search.tokenizer import normalize

    items = [_Pending(patterns=patterns, needles=[n.lower() for _p, n in patterns],
                      facets=_facet_values(query.filters))
             for query in queries for patterns in [phrase_patterns(query.q)]]
    pending = [item for item in items if item.patterns]
    labels = list(users)
    contracts_of = {label: set(visible(user, Contract.objects.live()).values_list("pk", flat=True).iterator())
                    for label, user in users.items()}
    customers_of = {label: set(visible(user, Customer.objects.all()).values_list("pk", flat=True).iterator())
                    for label, user in users.items()}
    facts = {}  # contract id -> (status, nature), for filtered queries' documents

    def count(text: str, allowed) -> None:
        """Test `text` against every pending query; `allowed(item, label)`: may the user see it here."""
        lowered, folded = text.lower(), None
        for item in list(pending):
            if not all(needle in lowered for needle in item.needles):
                continue
            who = [label for label in item.open_users(labels) if allowed(item, label)]
            if not who:
                continue
            if folded is None:
                folded = normalize(text)
            if all(p.search(folded) for p, _needle in item.patterns):
                for label in who:
                    item.counts[label] = item.counts.get(label, 0) + 1
                if not item.open_users(labels):
                    pending.remove(item)

    def facets_match(item, status, nature) -> bool:
        return all((status if name == "status" else nature) in values for name, values in item.facets.items())

    rows = Contract.objects.live().values("pk", "status", "nature", "number", "title", "our_entity",
                                           "counterparty_signatory", "tags", "description", "customer__name")
    for row in rows.iterator(chunk_size=2000):
        pk, status, nature = row["pk"], row["status"], row["nature"]
        facts[pk] = (status, nature)
        text = contract_text(SimpleNamespace(**row), row["customer__name"])
        count(text, lambda item, label, pk=pk, s=status, n=nature:
              pk in contracts_of[label] and facets_match(item, s, n))

    rows = Customer.objects.values_list("pk", "name", "credit_code", "tags", "address")
    for pk, name, code, tags, address in rows.iterator(chunk_size=2000):
        text = customer_text(SimpleNamespace(name=name, credit_code=code, tags=tags, address=address))
        count(text, lambda item, label, pk=pk: not item.facets and pk in customers_of[label])

    texts = (DocumentText.objects
             .filter(version__document__deleted_at__isnull=True, version_id=F("version__document__current_version_id"))
             .values_list("version__document__title", "text", "version__document__contract_id",
                          "version__document__customer_id"))
    for title, text, contract_id, customer_id in texts.iterator(chunk_size=200):
        if contract_id is not None:
            status, nature = facts.get(contract_id, (None, None))  # a deleted contract is in no user's set

            def allowed(item, label, c=contract_id, s=status, n=nature):
                return c in contracts_of[label] and facets_match(item, s, n)
        else:
            def allowed(item, label, c=customer_id):
                return not item.facets and c in customers_of[label]
        count(f"{title}\n{text}", allowed)
    return {(label, index): item.counts.get(label, 0) for label in labels for index, item in enumerate(items)}


def search_count(body: dict) -> int:
    """The API's answer as a number comparable with expected_count (CAP for "1,000+")."""
    return CAP if body["count_capped"] else body["count"]


def default_method() -> str:
    from django.db import connection

    return "scan" if connection.vendor == "postgresql" else "like"


def check_recall(users: dict, queries, fetch, out=print, rows_out: list | None = None,
                 method: str | None = None) -> list[dict]:
    """Compare every query's search count (`fetch(user_label, params) -> API body`) with the LIKE
    count, for each user; returns the mismatches (also printed). `method`: "like" or "scan" (above)."""
    import time

    method = method or default_method()
    queries = list(queries)
    started = time.perf_counter()
    if method == "scan":
        expected = expected_counts(users, queries)
    elif method == "like":
        expected = {(label, index): expected_count(user, query.q, query.filters)
                    for label, user in users.items() for index, query in enumerate(queries)}
    else:
        raise ValueError(f"unknown recall method {method!r} (like, scan)")
    seconds = time.perf_counter() - started
    failures, rows = [], []
    for label in users:
        for index, query in enumerate(queries):
            params = {"q": query.q, **query.filters}
            row = {"class": query.kind, "q": query.q, "filters": query.filters, "user": label,
                   "search": search_count(fetch(label, params)), "like": expected[label, index]}
            rows.append(row)
            if row["search"] != row["like"]:
                failures.append(row)
    if rows_out is not None:
        rows_out.extend(rows)
    out(f"recall: {len(rows)} query counts checked against LIKE ({method}, {seconds:.0f} s), {len(failures)} differ")
    for f in failures:
        out(f"  RECALL MISMATCH [{f['class']}] user={f['user']} q={f['q']!r} filters={f['filters']}: "
            f"search {f['search']}, LIKE {f['like']}")
    return failures
