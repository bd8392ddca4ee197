"""zh-Hans is the default language and every visible string is translated."""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "qiyue" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def parse_po(path: Path) -> dict:
    """{(context, msgid): (msgstrs, fuzzy)} from a .po file (the subset of the format gettext writes)."""
    entries: dict = {}
    current: dict = {}
    key = None

    def flush():
        if "msgid" in current:
            entries[(current.get("msgctxt"), current["msgid"])] = (
                [v for k, v in sorted(current.items()) if k.startswith("msgstr")], current.get("fuzzy", False))

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            flush()
            current, key = {}, None
        elif line.startswith("#,"):
            current["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            current[key] = ast.literal_eval(value)
    return entries


def plural_ids(path: Path) -> set:
    text = path.read_text(encoding="utf-8")
    # A msgid may be wrapped over several lines ("" first, then its parts).
    def joined(lines):
        return "".join(ast.literal_eval(part) for part in re.findall(r'".*"', lines))

    return {(joined(ctx) if ctx else None, joined(msgid))
            for ctx, msgid in re.findall(r'^(?:msgctxt ((?:".*"\n)+))?msgid ((?:".*"\n)+)msgid_plural', text, re.M)}


def test_committed_catalogue_is_complete():
    entries = parse_po(PO)
    missing = [msgid for (ctx, msgid), (strs, fuzzy) in entries.items() if msgid and (fuzzy or not all(strs))]
    assert not missing, f"untranslated or fuzzy: {missing[:20]}"


def test_compiled_catalogue_matches_the_source():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    plurals = plural_ids(PO)
    for (ctx, msgid), (strs, _fuzzy) in parse_po(PO).items():
        if not msgid:
            continue
        key = f"{ctx}\x04{msgid}" if ctx else msgid
        got = catalog.get((key, 0)) if (ctx, msgid) in plurals else catalog.get(key)
        assert got == strs[0], f"{msgid!r}: run `make messages` to recompile"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """Run makemessages on a copy of the tree: it must find nothing new to translate."""
    for name in ("qiyue", "config"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("static", "__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--ignore", "*/tests/*"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "QIYUE_DATA_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode == 0, result.stderr
    fresh = parse_po(tmp_path / "qiyue" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [msgid for (ctx, msgid), (strs, fuzzy) in fresh.items() if msgid and (fuzzy or not all(strs))]
    assert not missing, f"strings without a translation (run `make messages`, then translate): {missing[:20]}"


@pytest.mark.django_db
def test_default_language_is_chinese_and_english_is_one_click_away(client, users, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(users["sales"])
    page = client.get("/customers/").content.decode()
    assert 'lang="zh-hans"' in page and "客户" in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})
    assert response.status_code == 302
    page = client.get("/customers/").content.decode()
    assert 'lang="en"' in page and "Customers" in page
