"""The dependency locks still match pyproject.toml (checked offline, without the package index).

`make lock` compiles requirements.lock (the runtime dependencies) and requirements-test.lock (those and
the test extra, constrained by the runtime lock) from pyproject.toml, with hashes. Recompiling needs the
package index, so this check reads what the compiler wrote instead: each lock marks the packages it took
from pyproject.toml (`# via qiyue (pyproject.toml)`) and, for every other package, which locked packages
require it. The locks are stale when a direct dependency was added, removed or re-pinned in
pyproject.toml without `make lock`, when a locked package is required by nothing, when a package has no
hash, or when the two locks pin a package differently. (A change of extras or markers alone, e.g.
`psycopg[binary]` to `psycopg[c]`, shows only in a recompile: run `make lock` after any edit of the
dependencies.)
"""

import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
RUNTIME_LOCK = "requirements.lock"
TEST_LOCK = "requirements-test.lock"
FROM_PYPROJECT = "qiyue (pyproject.toml)"
FROM_RUNTIME_LOCK = f"-c {RUNTIME_LOCK}"


@dataclass
class Pin:
    version: str
    hashes: set[str] = field(default_factory=set)
    via: set[str] = field(default_factory=set)


def read_lock(path: Path) -> dict[str, Pin]:
    """Package -> Pin from a lock in pip's requirements format as uv writes it."""
    pins: dict[str, Pin] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or (text.startswith("#") and current is None):
            continue  # the header
        if not line.startswith((" ", "#")):
            requirement = Requirement(text.rstrip("\\ "))
            (spec,) = requirement.specifier
            current = pins[canonicalize_name(requirement.name)] = Pin(spec.version)
        elif text.startswith("--hash="):
            current.hashes.add(text.removeprefix("--hash=").rstrip("\\ "))
        elif text.startswith("# via "):
            current.via.add(_source(text.removeprefix("# via ")))
        elif text.startswith("#   "):
            current.via.add(_source(text.removeprefix("#   ")))
    return pins


def _source(text: str) -> str:
    text = text.strip()
    return text if text in (FROM_PYPROJECT, FROM_RUNTIME_LOCK) else canonicalize_name(text)


def direct_dependencies(requirements: list[str], problems: list) -> dict[str, str]:
    """Name -> pinned version of pyproject.toml requirements; an unpinned one is a problem."""
    pinned = {}
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            problems.append(("not_pinned", "pyproject.toml", name))
            continue
        pinned[name] = specs[0].version
    return pinned


def lock_problems(root: Path) -> list[tuple[str, str, str]]:
    """(code, file, package) for every way the locks under `root` disagree with its pyproject.toml."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    problems: list[tuple[str, str, str]] = []
    runtime = direct_dependencies(project["dependencies"], problems)
    test = runtime | direct_dependencies(project["optional-dependencies"]["test"], problems)
    runtime_pins = read_lock(root / RUNTIME_LOCK)
    test_pins = read_lock(root / TEST_LOCK)
    problems += _lock_against(RUNTIME_LOCK, runtime_pins, runtime)
    problems += _lock_against(TEST_LOCK, test_pins, test)
    # The test lock holds the runtime lock unchanged: same versions, same files.
    for name, pin in runtime_pins.items():
        other = test_pins.get(name)
        if other is None or (other.version, other.hashes) != (pin.version, pin.hashes):
            problems.append(("differs_from_runtime_lock", TEST_LOCK, name))
        elif FROM_RUNTIME_LOCK not in other.via:
            problems.append(("not_constrained", TEST_LOCK, name))
    for name, pin in test_pins.items():
        if FROM_RUNTIME_LOCK in pin.via and name not in runtime_pins:
            problems.append(("not_in_runtime_lock", TEST_LOCK, name))
    return problems


def _lock_against(lock: str, pins: dict[str, Pin], direct: dict[str, str]) -> list[tuple[str, str, str]]:
    problems = []
    for name, version in sorted(direct.items()):
        pin = pins.get(name)
        if pin is None:
            problems.append(("not_locked", lock, name))
        elif pin.version != version:
            problems.append(("version_differs", lock, name))
        elif FROM_PYPROJECT not in pin.via:
            problems.append(("not_locked_as_direct", lock, name))
    dropped = {name for name, pin in pins.items() if FROM_PYPROJECT in pin.via and name not in direct}
    problems += [("not_in_pyproject", lock, name) for name in sorted(dropped)]
    problems += [("no_hash", lock, name) for name, pin in sorted(pins.items()) if not pin.hashes]
    # Every other locked package is required by a direct dependency, through locked packages.
    reached = set(pins.keys() & direct.keys())
    frontier = set(reached)
    while frontier:
        frontier = {name for name, pin in pins.items() if name not in reached and pin.via & frontier}
        reached |= frontier
    problems += [("required_by_nothing", lock, name) for name in sorted(pins.keys() - reached - dropped)]
    return problems


def test_locks_match_pyproject():
    problems = lock_problems(ROOT)
    assert problems == [], f"The locks are stale; run `make lock`: {problems}"


def test_locks_pin_what_pyproject_pins():
    """A sanity check on the parser: the locks hold the known direct dependencies, hashed."""
    runtime, test = read_lock(ROOT / RUNTIME_LOCK), read_lock(ROOT / TEST_LOCK)
    assert runtime["django"].version == "5.2.19" and FROM_PYPROJECT in runtime["django"].via
    assert runtime["psycopg-binary"].via == {"psycopg"}
    assert "pytest" not in runtime and "pytest" in test
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for pin in test.values() for h in pin.hashes)


@pytest.fixture
def checkout(tmp_path):
    for name in ("pyproject.toml", RUNTIME_LOCK, TEST_LOCK):
        shutil.copy(ROOT / name, tmp_path / name)
    assert lock_problems(tmp_path) == []
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        # A dependency added to pyproject.toml without `make lock`.
        ([('"pillow==13.0.0",', '"pillow==13.0.0",\n    "rjieba==0.2.2",')],
         {("not_locked", RUNTIME_LOCK, "rjieba"), ("not_locked", TEST_LOCK, "rjieba")}),
        # Re-pinned.
        ([('"Django==5.2.19",', '"Django==5.2.20",')],
         {("version_differs", RUNTIME_LOCK, "django"), ("version_differs", TEST_LOCK, "django")}),
        # Removed: both locks still take it from pyproject.toml, and what only it required.
        ([('    "waitress==3.0.2",\n', "")],
         {("not_in_pyproject", RUNTIME_LOCK, "waitress"), ("not_in_pyproject", TEST_LOCK, "waitress")}),
        ([('    "bandit==1.9.4",\n', "")],
         {("not_in_pyproject", TEST_LOCK, "bandit"), ("required_by_nothing", TEST_LOCK, "stevedore")}),
        # Moved from the test extra to the runtime dependencies.
        ([('    "ruff==0.17.6",\n', ""), ('"pillow==13.0.0",', '"pillow==13.0.0",\n    "ruff==0.17.6",')],
         {("not_locked", RUNTIME_LOCK, "ruff")}),
        # Not pinned.
        ([('"whitenoise==6.12.0",', '"whitenoise>=6.12",')],
         {("not_pinned", "pyproject.toml", "whitenoise"), ("not_in_pyproject", RUNTIME_LOCK, "whitenoise"),
          ("not_in_pyproject", TEST_LOCK, "whitenoise")}),
    ],
    ids=["added", "repinned", "removed", "removed-test", "moved", "unpinned"],
)
def test_a_stale_pyproject_fails(checkout, edits, expected):
    for old, new in edits:
        _edit(checkout / "pyproject.toml", old, new)
    assert set(lock_problems(checkout)) == expected


def test_a_package_without_hashes_fails(checkout):
    lock = checkout / RUNTIME_LOCK
    lock.write_text(re.sub(r"(?m)^(waitress==3\.0\.2) \\\n(\s+--hash=\S+ ?\\?\n)+", r"\1\n",
                           lock.read_text(encoding="utf-8")), encoding="utf-8")
    assert ("no_hash", RUNTIME_LOCK, "waitress") in set(lock_problems(checkout))


def test_locks_that_disagree_fail(checkout):
    _edit(checkout / TEST_LOCK, "\nsqlparse==0.6.1 ", "\nsqlparse==0.6.2 ")
    assert lock_problems(checkout) == [("differs_from_runtime_lock", TEST_LOCK, "sqlparse")]
