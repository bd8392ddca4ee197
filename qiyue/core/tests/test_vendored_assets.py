"""The vendored static files are the ones the manifest names, byte for byte.

qiyue/static/vendor/MANIFEST.json lists every third-party file under static/vendor/ with its package,
version, license, the npm package and file it was copied from, and its SHA-256. A file changed, added or
removed without its manifest entry fails here.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"
MANIFEST = "MANIFEST.json"
PACKAGE_FIELDS = ("name", "npm", "version", "license", "files")
FILE_FIELDS = ("path", "npm_file", "sha256")


def vendor_problems(directory: Path) -> list[tuple[str, str]]:
    """(code, path or package) for every way the files under `directory` and its manifest disagree."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    listed = {}
    for package in manifest["packages"]:
        name = package.get("name", "?")
        problems += [("field_missing", f"{name}.{key}") for key in PACKAGE_FIELDS if not package.get(key)]
        for entry in package.get("files", []):
            path = entry.get("path", "?")
            problems += [("field_missing", f"{path}.{key}") for key in FILE_FIELDS if not entry.get(key)]
            if path in listed:
                problems.append(("listed_twice", path))
            listed[path] = (package, entry)
    on_disk = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()} - {MANIFEST}
    problems += [("not_in_manifest", path) for path in sorted(on_disk - listed.keys())]
    problems += [("missing_file", path) for path in sorted(listed.keys() - on_disk)]
    for path in sorted(on_disk & listed.keys()):
        package, entry = listed[path]
        data = (directory / path).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            problems.append(("sha256_differs", path))
        # The built files carry their release in a banner or a version constant.
        if path.endswith((".js", ".css")) and package.get("version", "?").encode() not in data:
            problems.append(("version_not_in_file", path))
    return problems


def test_vendored_files_match_the_manifest():
    assert vendor_problems(VENDOR) == []


def test_manifest_names_each_package_and_license():
    manifest = json.loads((VENDOR / MANIFEST).read_text(encoding="utf-8"))
    packages = {p["npm"]: (p["version"], p["license"]) for p in manifest["packages"]}
    assert packages == {"bootstrap": ("5.3.9", "MIT"), "htmx.org": ("2.0.11", "0BSD"), "bootstrap-icons": ("1.13.2", "MIT"),
                        "echarts": ("6.1.0", "Apache-2.0")}
    for package in manifest["packages"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])
        for entry in package["files"]:
            assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])


@pytest.fixture
def vendor_copy(tmp_path):
    copy = tmp_path / "vendor"
    shutil.copytree(VENDOR, copy)
    assert vendor_problems(copy) == []
    return copy


def test_a_changed_file_fails(vendor_copy):
    target = vendor_copy / "htmx" / "htmx.min.js"
    target.write_bytes(target.read_bytes() + b"\n")
    assert vendor_problems(vendor_copy) == [("sha256_differs", "htmx/htmx.min.js")]


def test_a_file_outside_the_manifest_fails(vendor_copy):
    (vendor_copy / "htmx" / "ext").mkdir()
    (vendor_copy / "htmx" / "ext" / "sse.js").write_text("// an extension nobody listed\n")
    assert vendor_problems(vendor_copy) == [("not_in_manifest", "htmx/ext/sse.js")]


def test_a_listed_file_that_is_gone_fails(vendor_copy):
    (vendor_copy / "bootstrap" / "bootstrap.min.css").unlink()
    assert vendor_problems(vendor_copy) == [("missing_file", "bootstrap/bootstrap.min.css")]


def test_an_updated_file_with_a_stale_version_fails(vendor_copy):
    """A new release copied in with only its hash updated still names the old version: refused."""
    target = vendor_copy / "bootstrap" / "bootstrap.bundle.min.js"
    data = target.read_bytes().replace(b"5.3.9", b"5.3.10")
    target.write_bytes(data)
    manifest = json.loads((vendor_copy / MANIFEST).read_text(encoding="utf-8"))
    for entry in manifest["packages"][0]["files"]:
        if entry["path"] == "bootstrap/bootstrap.bundle.min.js":
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    (vendor_copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert vendor_problems(vendor_copy) == [("version_not_in_file", "bootstrap/bootstrap.bundle.min.js")]
