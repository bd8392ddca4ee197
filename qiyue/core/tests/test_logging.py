"""Every log line reaches stderr exactly once, whichever library logs it (Django's own loggers had
a handler of their own besides propagating to the root handler, so their lines came out twice)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

SCRIPT = """
import logging
import django
django.setup()
for name in ("qiyue.contracts.x", "django.request", "django.security.csrf", "django_tasks_db", "waitress"):
    logging.getLogger(name).warning("line-from-%s", name)
logging.getLogger("django.request").error("error-from-django.request")
"""
LOGGERS = ("qiyue.contracts.x", "django.request", "django.security.csrf", "django_tasks_db", "waitress")


@pytest.mark.parametrize("debug", ["1", "0"])
def test_each_line_is_written_once(tmp_path, debug):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QIYUE_") and k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", QIYUE_DATA_DIR=str(tmp_path), QIYUE_DEBUG=debug,
               QIYUE_LOG_LEVEL="WARNING")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    for name in LOGGERS:
        assert result.stderr.count(f"line-from-{name}\n") == 1, (name, result.stderr)
    assert result.stderr.count("error-from-django.request\n") == 1, result.stderr
    assert result.stdout == ""


def test_below_the_level_nothing_is_written(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QIYUE_") and k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", QIYUE_DATA_DIR=str(tmp_path), QIYUE_DEBUG="1",
               QIYUE_LOG_LEVEL="ERROR")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    assert "line-from-" not in result.stderr
    assert result.stderr.count("error-from-django.request\n") == 1, result.stderr
