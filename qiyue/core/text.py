import re
import unicodedata

# Legal-form suffixes that do not distinguish one company from another, longest first.
_COMPANY_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司",
    "co.,ltd.", "co.,ltd", "co.ltd", "limited", "ltd.", "ltd", "inc.", "inc", "llc", "gmbh",
)
_PUNCT = re.compile(r"[\s\.,，。·•'\"“”‘’()（）\[\]【】\-_/&]+")


def normalize_company_name(name: str) -> str:
    """A comparison key for duplicate detection.

    Full-width and half-width forms fold together (NFKC), case and spaces and punctuation are
    ignored, and trailing legal-form suffixes (有限公司, 股份有限公司, Co., Ltd. …) are dropped.
    """
    key = unicodedata.normalize("NFKC", name or "").casefold().strip()
    changed = True
    while changed:
        changed = False
        stripped = _PUNCT.sub("", key)
        for suffix in _COMPANY_SUFFIXES:
            plain = _PUNCT.sub("", suffix)
            if stripped.endswith(plain) and len(stripped) > len(plain):
                stripped = stripped[: -len(plain)]
                changed = True
                break
        key = stripped
    return key


def split_tags(value) -> list[str]:
    """Tags from a list or a comma/、/；-separated string, trimmed, unique, order kept."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,，、;；\n]+", str(value))
    out: list[str] = []
    for item in items:
        tag = unicodedata.normalize("NFKC", str(item)).strip()
        if tag and tag not in out:
            out.append(tag)
    return out
