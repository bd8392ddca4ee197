"""Settings are read from the environment in one module, config/settings.py; the code reads
django.conf.settings. A module under qiyue/ (outside tests and migrations) that reads os.environ or
os.getenv fails here, except the few that pass the environment on rather than configure themselves.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# module: why it may touch the process environment
ALLOWED = {
    "qiyue/cli.py": "sets the DJANGO_SETTINGS_MODULE default before Django starts",
    "qiyue/ops/management/commands/worker.py": "asks Django's autoreloader whether it is the child process",
    "qiyue/documents/ocr.py": "passes the environment on to Tesseract (OMP_THREAD_LIMIT)",
}


def _reads(tree: ast.AST) -> list[int]:
    """Line numbers where `tree` touches os.environ / os.getenv / os.environb / os.putenv, by
    attribute or by a `from os import …`."""
    names = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names and isinstance(node.value, ast.Name) \
                and node.value.id == "os":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(alias.name in names for alias in node.names):
            lines.append(node.lineno)
    return lines


def _offenders() -> list[str]:
    found = []
    for path in sorted((ROOT / "qiyue").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "tests" in rel.parts or "migrations" in rel.parts or rel.as_posix() in ALLOWED:
            continue
        found += [f"{rel.as_posix()}:{line}" for line in _reads(ast.parse(path.read_text(), str(path)))]
    return found


def test_only_the_settings_module_reads_the_environment():
    offenders = _offenders()
    assert not offenders, ("read these through django.conf.settings (config/settings.py reads the "
                           "environment):\n" + "\n".join(offenders))


def test_the_allowed_modules_still_need_it():
    """An exception that is no longer used is removed from ALLOWED."""
    unused = [rel for rel in ALLOWED if not _reads(ast.parse((ROOT / rel).read_text()))]
    assert not unused, f"no longer read the environment: {unused}"


def test_the_check_sees_a_read():
    """Not vacuous: each way of reading the environment is found."""
    for source in ("import os\nKEY = os.environ['QIYUE_X']\n", "import os\nKEY = os.getenv('QIYUE_X')\n",
                   "import os\nKEY = os.environ.get('QIYUE_X', '')\n", "from os import environ\n",
                   "from os import getenv as read\n"):
        assert _reads(ast.parse(source)), source
    assert not _reads(ast.parse("from django.conf import settings\nKEY = settings.QIYUE_X\n"))
    probe = ROOT / "qiyue" / "core" / "_environ_probe.py"
    probe.write_text("import os\n\nKEY = os.environ.get('QIYUE_X')\n")
    try:
        assert "qiyue/core/_environ_probe.py:3" in _offenders()
    finally:
        probe.unlink()
