"""Distinct query lists per class, drawn from the data set itself (words of every frequency).

Each query is (class, q, filters, page): `filters` are search parameters (status, nature),
`page` the page asked for (deep pages: 50).
"""

import random
import re
from dataclasses import dataclass, field

from bench.search_data import BORDER_PHRASE, CROSS_PAIRS, OLD_VERSION_WORD, RARE_TERMS

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
ASCII_WORD = re.compile(r"[A-Za-z]{4,}")
STATUSES = ["active", "completed", "expired", "draft", "signed"]
NATURES = ["sales", "purchase", "service", "lease", "other"]


@dataclass(frozen=True)
class Query:
    kind: str
    q: str
    filters: dict = field(default_factory=dict, hash=False, compare=False)
    page: int = 1

    def params(self) -> dict:
        params = {"q": self.q, **self.filters}
        if self.page > 1:
            params["page"] = self.page
        return params


def _sample_texts(rng: random.Random, n: int) -> list[str]:
    from qiyue.documents.models import Document, DocumentText

    ids = list(Document.objects.values_list("current_version_id", flat=True).order_by("pk"))
    picks = rng.sample(ids, min(n, len(ids)))
    # At most the first 20,000 characters of each: enough words, little memory.
    return [text[:20_000] for text in DocumentText.objects.filter(version_id__in=picks).values_list("text", flat=True)]


def _distinct(rng: random.Random, items, n: int) -> list:
    items = sorted(set(items))
    rng.shuffle(items)
    return items[:n]


def query_lists(per_class: int = 20, seed: int = 5) -> dict[str, list[Query]]:
    """{class: distinct queries}, at most `per_class` each."""
    from qiyue.contracts.models import Contract

    rng = random.Random(seed)
    texts = _sample_texts(rng, 60)
    runs = [run for text in texts for run in CJK_RUN.findall(text)]
    chars = _distinct(rng, (ch for run in runs for ch in run), per_class)
    words = []  # CJK substrings of 2–4 characters: clause words, frequent
    for run in rng.sample(runs, min(len(runs), per_class * 20)):
        if len(run) >= 2:
            size = rng.randint(2, min(4, len(run)))
            start = rng.randrange(0, len(run) - size + 1)
            words.append(run[start:start + size])
    frequent = _distinct(rng, words, per_class)
    phrases = []
    for run in rng.sample(runs, min(len(runs), per_class * 10)):
        if len(run) >= 8:
            size = rng.randint(6, min(12, len(run)))
            start = rng.randrange(0, len(run) - size + 1)
            phrases.append(f'"{run[start:start + size]}"')
    english = _distinct(rng, (w.lower() for text in texts for w in ASCII_WORD.findall(text)), per_class)
    english_phrases = _distinct(rng, (f'"{a} {b}"' for text in texts
                                      for a, b in re.findall(r"\b([A-Za-z]{3,}) ([A-Za-z]{3,})\b", text)),
                                per_class // 2)
    numbers = list(Contract.objects.order_by("?").values_list("number", flat=True)[:per_class])
    filtered = [Query("filtered (status/nature)", rng.choice(frequent),
                      {"status": rng.choice(STATUSES)} if i % 2 else {"nature": rng.choice(NATURES)})
                for i in range(per_class)]
    mixed = [f"{rng.choice(frequent)} {rng.choice(english)}" for _ in range(per_class)]
    with_rare = [f"{rng.choice(frequent)} {rng.choice(RARE_TERMS)}" for _ in range(per_class // 2)]
    lists = {
        "single character": [Query("single character", c) for c in chars],
        "filtered (status/nature)": filtered,
        "rare (< 10 hits)": [Query("rare (< 10 hits)", t) for t in _distinct(rng, RARE_TERMS, per_class)]
        + [Query("rare (< 10 hits)", OLD_VERSION_WORD)],  # only in older versions: no hit
        "frequent": [Query("frequent", w) for w in frequent],
        "phrase (quoted)": [Query("phrase (quoted)", p) for p in _distinct(rng, phrases, per_class)],
        "English": [Query("English", w) for w in english + english_phrases],
        "contract number": [Query("contract number", n) for n in numbers],
        "deep page (50)": [Query("deep page (50)", w, page=50) for w in frequent],
        "mixed": [Query("mixed", m) for m in _distinct(rng, mixed, per_class)],
        "AND with a rare term": [Query("AND with a rare term", m) for m in _distinct(rng, with_rare, per_class)],
        "cross-chunk AND": [Query("cross-chunk AND", f"{a} {b}") for a, b in CROSS_PAIRS],
        "phrase over a chunk border": [Query("phrase over a chunk border", f'"{BORDER_PHRASE}"'),
                                       Query("phrase over a chunk border", f'"{BORDER_PHRASE[4:12]}"')],
    }
    return {name: queries for name, queries in lists.items() if queries}
