"""Highlighted snippets: HTML-escape the text first, then wrap what the query matched in <mark>.

Matching here only places the highlight; what is a hit was decided by the index. Text and query
are compared in normalised form (NFKC, case-folded), mapped back to the original characters.
"""

import re
import unicodedata
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
    """The text as the tokenizer sees it (NFKC, case-folded) and, when lengths differ, the original
    index of each normalised character. Fast path: ASCII, and text where full-width folding and
    lower case are all the normalisation there is, keep every character in place."""
    if text.isascii():
        return text.lower(), None
    # str.translate looks every character up in the table (0.1 ms for a page of text); most
    # text has no full-width character at all, and a regex finds that out in microseconds.
    norm = (text.translate(_FULL_WIDTH) if _HAS_FULL_WIDTH.search(text) else text).lower()
    if len(norm) == len(text) and unicodedata.is_normalized("NFKC", norm) and norm == norm.casefold():
        return norm, None
    # Compatibility characters (① ﬁ ㈱ …) and case folding that changes a letter (ß → ss): the
    # tokenizer saw their NFKC form, so the query's words are found in that form only.
    pieces, where = [], []
    for index, char in enumerate(text):
        folded = normalize(char)
        pieces.append(folded)
        where.extend([index] * len(folded))
    return "".join(pieces), where


# A character the tokenizer makes no token of (spaces, punctuation, symbols): it only separates.
_SEPARATOR = f"(?:[^\\w{_CJK}]|_)"
# Not glued to a letter or digit outside CJK (a Latin word matches whole; CJK may touch it).
_NOT_AFTER_WORD = f"(?<![^\\W_{_CJK}])"
_NOT_BEFORE_WORD = f"(?![^\\W_{_CJK}])"


@lru_cache(maxsize=256)
def _phrase_pattern(phrase: Phrase) -> re.Pattern:
    """Where the index found `phrase`, in normalised text: its parts in order with only separators
    between them, as the tokens are adjacent (see tokenizer.phrase_of)."""
    pattern = []
    parts = phrase.parts
    for index, (part, cjk) in enumerate(parts):
        last = index == len(parts) - 1
        if index:
            # Two CJK runs, or two Latin words, are two runs only if something separates them;
            # a Latin word and a CJK run may touch ("USB接口").
            pattern.append(_SEPARATOR + ("+" if cjk == parts[index - 1][1] else "*"))
        if cjk:
            # A CJK run followed by more of the phrase ends there (its closing unigram).
            pattern.append(re.escape(part) + ("" if last else f"(?![{_CJK}])"))
        else:
            pattern.append(_NOT_AFTER_WORD + re.escape(part) + _NOT_BEFORE_WORD)
    return re.compile("".join(pattern))


def phrase_spans(norm: str, phrases: list[Phrase], limit: int = 200) -> list[tuple[int, int, int]]:
    """(start, end, phrase index) of each occurrence of the phrases in normalised text, in order.
    A phrase of several words is one span (the words where they stand together), never its words
    elsewhere."""
    spans = []
    for number, phrase in enumerate(phrases):
        for match in _phrase_pattern(phrase).finditer(norm):
            if len(spans) >= limit:
                break
            spans.append((*match.span(), number))
    spans.sort()
    return spans


def _merged(spans) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _anchor(spans: list[tuple[int, int, int]], window: int) -> int | None:
    """The start of the occurrence the snippet shows: the first one from which a window holds the
    most different phrases of the query (all the words of "force majeure" near each other rather
    than "force" alone further up). One pass with a sliding window."""
    best, best_count = None, 0
    counts: dict[int, int] = {}
    right = 0
    for left, (start, _end, _number) in enumerate(spans):
        while right < len(spans) and spans[right][1] <= start + window - BEFORE:
            counts[spans[right][2]] = counts.get(spans[right][2], 0) + 1
            right += 1
        if len(counts) > best_count:
            best, best_count = start, len(counts)
        if right > left:
            number = spans[left][2]
            counts[number] -= 1
            if not counts[number]:
                del counts[number]
        else:
            right = left + 1
    return spans[0][0] if best is None else best


def highlight(text: str, phrases: list[Phrase], *, window: int = WINDOW) -> tuple[SafeString, int | None]:
    """(snippet HTML, original offset of the match the snippet is centred on, or None when the
    text does not hold the query — the hit came from the document's title)."""
    if not text:
        return SafeString(""), None
    norm, where = _normalized_with_map(text)

    def original(i: int) -> int:
        if where is None:
            return i
        return where[i] if i < len(where) else len(text)

    found = [(original(s), original(e - 1) + 1, number) for s, e, number in phrase_spans(norm, phrases)]
    spans = _merged((s, e) for s, e, _number in found)
    first = _anchor(found, window) if found else None
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
    # Every piece of `text` above went through escape(); the only markup is our own <mark>.
    return mark_safe("".join(out)), first  # nosec B308 B703
