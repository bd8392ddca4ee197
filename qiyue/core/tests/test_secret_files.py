"""The secrets kept in the data directory: processes starting together on a new one agree on one value."""

import os
import stat
from pathlib import Path

from config import settings as settings_module


def test_processes_that_create_a_secret_at_once_agree_on_it(tmp_path, monkeypatch):
    monkeypatch.setattr(settings_module, "DATA_DIR", tmp_path)
    # Every caller sees no file yet, as processes that start at the same moment do.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    values = {settings_module.secret_from_file("race_key", 32) for _ in range(5)}
    assert len(values) == 1 and len(values.pop()) >= 32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race_key"]  # no temporary file left
    assert stat.S_IMODE(os.stat(tmp_path / "race_key").st_mode) == 0o600
