"""Highlighted snippets: HTML-escape the text first, then wrap what the query matched in <mark>.

Matching here only places the highlight; what is a hit was decided by the index. Text and query
are compared in normalised form (NFKC, case-folded), mapped back to the original characters.
"""

import re
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .tokenizer import _CJK, Phrase, normalize

WINDOW = 160
BEFORE = 50


# Full-width ASCII (Ａ-ｚ, ０-９ …) folds to ASCII one character for one, like NFKC does.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HAS_FULL_WIDTH = re.compile("[\uff01-\uff5e]")


def _normalized_with_map(text: str) -> tuple[str, list[int] | None]:
    """The normalised text and, when lengths differ, the original index of each normalised char.
    Fast path: full-width folding and lower case keep every character in place."""
    if text.isascii():
        return text.lower(), None
    # str.translate looks every character up in the table (0.1 ms for a page of text); most
    # text has no full-width character at all, and a regex finds that out in microseconds.
    norm = (text.translate(_FULL_WIDTH) if _HAS_FULL_WIDTH.search(text) else text).lower()
    if len(norm) == len(text):
        return norm, None
    pieces, where = [], []
    for index, char in enumerate(text):
        folded = normalize(char)
        pieces.append(folded)
        where.extend([index] * len(folded))
    return "".join(pieces), where


@lru_cache(maxsize=256)
def _word_pattern(word: str) -> re.Pattern:
    # A whole Latin word or number: not glued to other letters or digits (CJK may touch it).
    return re.compile(f"(?<![^\\W_{_CJK}]){re.escape(word)}(?![^\\W_{_CJK}])")


def match_spans(norm: str, phrases: list[Phrase], limit: int = 200) -> list[tuple[int, int]]:
    spans = []
    for phrase in phrases:
        for part, cjk in phrase.parts:
            if cjk:
                start = norm.find(part)
                while start != -1 and len(spans) < limit:
                    spans.append((start, start + len(part)))
                    start = norm.find(part, start + len(part))
            else:
                spans.extend(m.span() for m in _word_pattern(part).finditer(norm, 0) if len(spans) < limit)
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def highlight(text: str, phrases: list[Phrase], *, window: int = WINDOW) -> tuple[SafeString, int | None]:
    """(snippet HTML, original offset of the first match or None)."""
    if not text:
        return mark_safe(""), None
    norm, where = _normalized_with_map(text)
    spans = match_spans(norm, phrases)

    def original(i: int) -> int:
        if where is None:
            return i
        return where[i] if i < len(where) else len(text)

    spans = [(original(s), original(e - 1) + 1) for s, e in spans]
    first = spans[0][0] if spans else None
    start = 0 if first is None else max(0, first - BEFORE)
    if first is not None and start > 0:
        # Start the window at a word boundary when one is near.
        space = text.rfind(" ", start - 15, start)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + window)
    out = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return mark_safe("".join(out)), first
