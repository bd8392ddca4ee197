"""Static and supply-chain checks run with the suite: bandit over the code (no finding of medium
severity and confidence; each waiver on its line with the test id and a reason), and pip-audit over
the test lock where the vulnerability data can be reached (else a visible skip)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "requirements-test.lock"
BANDIT = [sys.executable, "-m", "bandit", "--ini", ".bandit", "--severity-level", "medium",
          "--confidence-level", "medium", "--quiet", "--format", "json"]
# `# nosec B308 B703  # reason`, or the ids alone when the line above is the reason (a comment).
WAIVER = re.compile(r"#\s*nosec\b(?P<ids>[^#]*)(?:#\s*(?P<reason>\S.*))?$")


def test_bandit_finds_nothing():
    result = subprocess.run(BANDIT, cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not findings, ("bandit: fix these, or waive one on its line with a nosec comment naming the test "
                          "and the reason (see .bandit):\n" + "\n".join(findings))
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it read the code


def test_every_bandit_waiver_names_its_test_and_reason():
    waivers = []
    for path in [*ROOT.joinpath("qiyue").rglob("*.py"), *ROOT.joinpath("config").rglob("*.py")]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            match = WAIVER.search(line)
            if not match:
                continue
            waivers.append(path)
            above = lines[number - 2].strip() if number > 1 else ""
            assert re.fullmatch(r"\s*(B\d{3}\s*)+", match["ids"]), f"{path}:{number}: a waiver names its bandit tests"
            assert match["reason"] or above.startswith("#"), f"{path}:{number}: a waiver gives its reason"
    assert waivers  # the check above ran on the waivers there are


def _pinned(lock: Path) -> list[tuple[str, str]]:
    return re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", lock.read_text(), flags=re.MULTILINE)


def test_pip_audit_of_the_test_lock():
    pins = _pinned(LOCK)
    assert len(pins) > 50
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(LOCK), "--require-hashes", "--disable-pip",
         "--progress-spinner", "off", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout)
    unaudited = [f"{d['name']} {d.get('version', '')}: {d['skip_reason']}" for d in report["dependencies"]
                 if "skip_reason" in d]
    # Where the package index offers no vulnerability data (a mirror, no network), pip-audit can audit
    # nothing: say so in the summary rather than pass quietly or fail on what the machine cannot reach.
    if report["dependencies"] and len(unaudited) == len(report["dependencies"]):
        pytest.skip(f"pip-audit skipped: vulnerability data unreachable for every dependency ({unaudited[0]})")
    vulnerable = [f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
                  for d in report["dependencies"] if d.get("vulns")]
    assert not vulnerable, "known vulnerabilities in the locked dependencies:\n" + "\n".join(vulnerable)
    assert not unaudited, "dependencies pip-audit could not audit:\n" + "\n".join(unaudited)
