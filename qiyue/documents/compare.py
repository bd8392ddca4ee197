"""Side-by-side comparison of two texts (two versions of a document), working for Chinese.

Pure function, no database: lines are matched first (difflib.SequenceMatcher), then the characters
within each changed pair of lines, because Chinese has no spaces between words and a word-level
diff would mark whole sentences. Every fragment is HTML-escaped before <ins>/<del> are added.
"""

from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Two changed lines this unlike are shown as a deletion and an insertion, not character by character.
MIN_LINE_SIMILARITY = 0.3
# Character-level diffs are quadratic; beyond this many characters a changed line is marked whole.
MAX_CHAR_DIFF = 5000


@dataclass(frozen=True)
class Row:
    """One row of the side-by-side view. A side is None where the other side has an inserted or
    deleted line; `kind` is equal, replace, delete or insert."""

    kind: str
    left_number: int | None
    right_number: int | None
    left: SafeString | None
    right: SafeString | None


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]
    insertions: int  # characters inserted
    deletions: int   # characters deleted

    @property
    def identical(self) -> bool:
        return not self.insertions and not self.deletions


def _lines(text: str) -> list[str]:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _wrap(tag: str, text: str) -> str:
    return format_html("<{}>{}</{}>", tag, text, tag) if text else ""


def _char_diff(old: str, new: str) -> tuple[str, str, int, int]:
    """(left html, right html, characters inserted, characters deleted) for one changed line."""
    if len(old) + len(new) > MAX_CHAR_DIFF:
        return _wrap("del", old), _wrap("ins", new), len(new), len(old)
    left, right, inserted, deleted = [], [], 0, 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(escape(old[i1:i2]))
            right.append(escape(new[j1:j2]))
            continue
        if i2 > i1:
            left.append(_wrap("del", old[i1:i2]))
            deleted += i2 - i1
        if j2 > j1:
            right.append(_wrap("ins", new[j1:j2]))
            inserted += j2 - j1
    return "".join(left), "".join(right), inserted, deleted


def compare_texts(old: str, new: str) -> Comparison:
    """Compare `old` (left) with `new` (right)."""
    a, b = _lines(old), _lines(new)
    rows: list[Row] = []
    inserted = deleted = 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            rows.extend(Row("equal", i + 1, j + 1, escape(a[i]), escape(b[j]))
                        for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        old_block, new_block = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(old_block), len(new_block))):
            i = old_block[k] if k < len(old_block) else None
            j = new_block[k] if k < len(new_block) else None
            if i is not None and j is not None and (
                    SequenceMatcher(None, a[i], b[j], autojunk=False).quick_ratio() >= MIN_LINE_SIMILARITY):
                left, right, ins, dels = _char_diff(a[i], b[j])
                # Both sides are joined from _wrap's and escape's output: every character of the text is escaped.
                rows.append(Row("replace", i + 1, j + 1, mark_safe(left), mark_safe(right)))  # nosec B308 B703
                inserted += ins
                deleted += dels
                continue
            if i is not None:
                rows.append(Row("delete", i + 1, None, _wrap("del", a[i]), None))
                deleted += len(a[i])
            if j is not None:
                rows.append(Row("insert", None, j + 1, None, _wrap("ins", b[j])))
                inserted += len(b[j])
    return Comparison(rows=rows, insertions=inserted, deletions=deleted)
