"""`qiyue` and `qiyue help` list Qiyue's own commands first, one line each, then Django's by name;
`qiyue help <command>` still shows that command's options."""

import subprocess
import sys

import pytest

from qiyue import cli

OURS = ["audit", "createuser", "demo", "finance", "keys", "reindex", "reminders", "reset2fa", "serve", "setpassword",
        "storage", "token", "worker"]


@pytest.mark.parametrize("argv", [["qiyue"], ["qiyue", "help"], ["qiyue", "--help"]])
def test_the_overview_lists_qiyues_commands_first(capsys, argv):
    cli.main(argv)
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = lines.index("Qiyue's commands:")
    listed = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        name, summary = line.split(maxsplit=1)
        listed.append(name)
        assert summary and not summary.endswith(".") and len(line) <= 140, line
    assert listed == OURS
    assert out.index("Qiyue's commands:") < out.index("migrate (create or upgrade the database)") \
        < out.index("Django's other commands:")
    assert "changepassword" in out[out.index("Django's other commands:"):]


def test_help_for_one_command_shows_its_options(tmp_path):
    result = subprocess.run([sys.executable, "-c", "from qiyue.cli import main; main(['qiyue', 'help', 'serve'])"],  # noqa: S603
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "QIYUE_DATA_DIR": str(tmp_path)}, check=False)
    assert result.returncode == 0, result.stderr
    assert "--threads" in result.stdout and "waitress" in result.stdout
