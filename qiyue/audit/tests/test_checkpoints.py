"""Signed checkpoints anchor the chain outside the database: removing the newest events (which the
chain alone cannot show) fails `qiyue audit verify --checkpoint`. Tamper as a database superuser would."""

import io
import json
import logging
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection

from qiyue.audit.chain import compute_mac, verify
from qiyue.audit.checkpoints import (
    CHECKPOINT_ACTION,
    LOGGER_NAME,
    Checkpoint,
    checkpoint_periodic,
    checkpoint_take,
    load_public_key,
)
from qiyue.audit.guards import TABLE
from qiyue.audit.jobs import WRITE_CHECKPOINT
from qiyue.audit.models import AuditEvent
from qiyue.audit.services import audit_record
from qiyue.audit.tests.tampering import guards_off, tamper
from qiyue.core.jobs import periodic_jobs

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parents[3]


def append_events(actor, n):
    for i in range(n):
        audit_record(actor=actor, action="customer.created", target=(AuditEvent, f"event {i}"))


@pytest.fixture
def log(users):
    append_events(users["admin"], 20)
    return AuditEvent.objects.order_by("-seq").first().seq


@pytest.fixture
def checkpoint_file(settings, tmp_path):
    path = tmp_path / "anchor" / "checkpoints.jsonl"
    path.parent.mkdir()
    settings.QIYUE_AUDIT_CHECKPOINT_FILE = str(path)
    settings.QIYUE_AUDIT_CHECKPOINT_SYSLOG = False
    settings.QIYUE_AUDIT_CHECKPOINT_EMAIL = []
    return path


@pytest.fixture
def no_destination(settings):
    settings.QIYUE_AUDIT_CHECKPOINT_FILE = ""
    settings.QIYUE_AUDIT_CHECKPOINT_SYSLOG = False
    settings.QIYUE_AUDIT_CHECKPOINT_EMAIL = []


def audit(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def public_key():
    return audit("public-key")[0].split()[0]


def lines(path):
    return [Checkpoint.from_json(line) for line in path.read_text().splitlines()]


def test_a_checkpoint_is_appended_to_the_file_signed(log, checkpoint_file):
    out, err = audit("checkpoint")
    (written,) = lines(checkpoint_file)
    assert written == Checkpoint.from_json(out.strip())
    assert (written.seq, written.count) == (log, log)
    assert written.mac == AuditEvent.objects.get(seq=log).mac
    assert written.signature_valid(load_public_key(public_key()))
    assert "written to file" in err
    assert stat.S_IMODE(checkpoint_file.stat().st_mode) & 0o007 == 0
    newest = AuditEvent.objects.order_by("-seq").first()
    assert (newest.seq, newest.action) == (log + 1, CHECKPOINT_ACTION)
    assert f"seq {log}" in newest.target_label and verify(AuditEvent.objects.all()).ok
    audit("checkpoint")
    assert [c.seq for c in lines(checkpoint_file)] == [log, log + 1]


def test_verify_passes_while_the_log_reaches_the_checkpoint(log, checkpoint_file, users):
    audit("checkpoint")
    append_events(users["sales"], 3)
    out, _ = audit("verify", "--checkpoint", str(checkpoint_file), "--public-key", public_key())
    assert out.startswith(f"OK: {log + 4} events verified.")
    assert f"the log reaches the checkpoint of seq {log} " in out


@pytest.mark.parametrize("newest", [5, 500, "all"])
def test_removing_the_newest_events_passes_the_chain_but_not_the_checkpoint(users, checkpoint_file, newest):
    append_events(users["admin"], 520 if newest == 500 else 20)
    audit("checkpoint")
    checkpointed = lines(checkpoint_file)[-1].seq
    last = checkpointed + 1  # the checkpoint's own event
    if newest == "all":
        with guards_off(), connection.cursor() as cursor:  # a superuser empties the table
            cursor.execute(f"TRUNCATE {TABLE}" if connection.vendor == "postgresql" else f"DELETE FROM {TABLE}")
        remaining = 0
    else:
        tamper(f"DELETE FROM {TABLE} WHERE seq > %s", [last - newest])
        remaining = last - newest
    assert AuditEvent.objects.count() == remaining

    out, _ = audit("verify")  # the chain alone cannot tell
    assert out.startswith(f"OK: {remaining} events verified.")
    with pytest.raises(CommandError) as failed:
        audit("verify", "--checkpoint", str(checkpoint_file))
    assert f"truncated: the log ends at seq {remaining} but the checkpoint says {checkpointed}" in str(failed.value)


def test_a_chain_rewritten_with_the_audit_key_differs_at_the_checkpoint(log, checkpoint_file):
    """Someone holding the audit key edits an event and recomputes every mac after it: the chain
    verifies, the checkpoint does not."""
    audit("checkpoint")
    events = list(AuditEvent.objects.order_by("seq"))
    victim = log - 3
    previous = events[victim - 2].mac
    for event in events[victim - 1:]:
        if event.seq == victim:
            event.target_label = "nothing to see"
        event.mac = compute_mac(previous, event)
        tamper(f"UPDATE {TABLE} SET target_label = %s, mac = %s WHERE id = %s",
               [event.target_label, event.mac, event.pk])
        previous = event.mac
    assert verify(AuditEvent.objects.all()).ok
    with pytest.raises(CommandError, match=f"rewritten: mac differs at seq {log}"):
        audit("verify", "--checkpoint", str(checkpoint_file))


def test_a_truncated_log_that_grew_again_differs_at_the_checkpoint(log, checkpoint_file, users):
    """The newest events are removed and the application goes on writing: the log reaches the
    checkpoint's seq again, with other events."""
    audit("checkpoint")
    tamper(f"DELETE FROM {TABLE} WHERE seq > %s", [log - 10])
    append_events(users["sales"], 15)
    assert verify(AuditEvent.objects.all()).ok
    with pytest.raises(CommandError, match=f"rewritten: mac differs at seq {log}: the events up to it are not"):
        audit("verify", "--checkpoint", str(checkpoint_file))


def test_an_edited_event_fails_both(log, checkpoint_file):
    audit("checkpoint")
    tamper(f"UPDATE {TABLE} SET actor_name = 'x' WHERE seq = 2")
    with pytest.raises(CommandError) as failed:
        audit("verify", "--checkpoint", str(checkpoint_file))
    assert "(seq 2): the log was changed" in str(failed.value)
    assert "checkpoint" not in str(failed.value)  # the anchor itself still holds


def test_a_row_removed_before_the_checkpoint_fails_both(log, checkpoint_file):
    audit("checkpoint")
    tamper(f"DELETE FROM {TABLE} WHERE seq = 3")
    with pytest.raises(CommandError) as failed:
        audit("verify", "--checkpoint", str(checkpoint_file))
    assert "(seq 4): the log was removed there" in str(failed.value)
    assert f"removed: {log - 1} events up to seq {log}, the checkpoint counted {log}" in str(failed.value)


def test_a_forged_checkpoint_has_a_bad_signature(log, checkpoint_file):
    audit("checkpoint")
    data = json.loads(checkpoint_file.read_text())
    data["seq"] -= 5  # claim the log was shorter
    with pytest.raises(CommandError, match=rf"bad signature: the checkpoint \(seq {log - 5}\) is not signed by key"):
        audit("verify", "--checkpoint", json.dumps(data))


def test_the_auditors_pinned_key_passes_over_lines_signed_by_another(log, checkpoint_file, settings):
    audit("checkpoint")
    own = public_key()
    settings.QIYUE_AUDIT_CHECKPOINT_KEY = "an attacker's key"
    audit("checkpoint")  # a line signed by another key
    with checkpoint_file.open("a") as handle:
        handle.write("not json\n")
    out, err = audit("verify", "--checkpoint", str(checkpoint_file), "--public-key", own)
    assert f"checkpoint of seq {log} " in out
    assert "2 later line(s)" in err
    settings.QIYUE_AUDIT_CHECKPOINT_KEY = "a third key"
    with pytest.raises(CommandError, match="bad signature: no line of .* is a checkpoint signed by key"):
        audit("verify", "--checkpoint", str(checkpoint_file))


def test_the_wrong_public_key_names_both_keys(log, checkpoint_file):
    audit("checkpoint")
    other = "A" * 43 + "="
    with pytest.raises(CommandError, match="it names key"):
        audit("verify", "--checkpoint", checkpoint_file.read_text().strip(), "--public-key", other)
    with pytest.raises(CommandError, match="not the base64 of a 32-byte Ed25519 key"):
        audit("verify", "--checkpoint", str(checkpoint_file), "--public-key", "not-a-key")


def test_line_picks_an_earlier_checkpoint(log, checkpoint_file, users):
    audit("checkpoint")
    append_events(users["admin"], 5)
    audit("checkpoint")
    tamper(f"DELETE FROM {TABLE} WHERE seq > %s", [log + 1])
    assert "OK" in audit("verify", "--checkpoint", str(checkpoint_file), "--line", "1")[0]
    with pytest.raises(CommandError, match="truncated"):
        audit("verify", "--checkpoint", str(checkpoint_file))
    with pytest.raises(CommandError, match="has no line 7"):
        audit("verify", "--checkpoint", str(checkpoint_file), "--line", "7")


def test_unreadable_or_malformed_checkpoints_fail_clearly(log, tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        audit("verify", "--checkpoint", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CommandError, match="not a checkpoint"):
        audit("verify", "--checkpoint", '{"v": 1, "seq": "3"}')


def test_without_a_destination_the_command_says_so(log, no_destination):
    out, err = audit("checkpoint")
    assert "No checkpoint destination is configured" in err
    assert Checkpoint.from_json(out.strip()).seq == log
    messages = checks.run_checks(include_deployment_checks=True)
    assert "audit.W001" in [m.id for m in messages]
    assert "audit.W001" not in [m.id for m in checks.run_checks()]


def test_a_file_inside_the_data_directory_is_refused(log, settings):
    settings.QIYUE_AUDIT_CHECKPOINT_FILE = str(Path(django_settings.DATA_DIR) / "sub" / "checkpoints.jsonl")
    assert [m.id for m in checks.run_checks() if m.id.startswith("audit.")] == ["audit.E001"]
    with pytest.raises(CommandError, match="file failed: CheckpointError: .* is inside the data directory"):
        audit("checkpoint")
    assert not (Path(django_settings.DATA_DIR) / "sub").exists()
    settings.QIYUE_AUDIT_CHECKPOINT_FILE = "checkpoints.jsonl"
    (relative,) = [m for m in checks.run_checks() if m.id.startswith("audit.")]
    assert relative.id == "audit.E001" and "is not an absolute path" in relative.msg


def test_bad_email_addresses_are_refused(settings):
    settings.QIYUE_AUDIT_CHECKPOINT_EMAIL = ["auditors@example.com", "not an address"]
    assert [m.id for m in checks.run_checks() if m.id.startswith("audit.")] == ["audit.E002"]


def test_checkpoints_are_mailed(log, no_destination, settings, mailoutbox):
    settings.QIYUE_AUDIT_CHECKPOINT_EMAIL = ["auditors@example.com", "cfo@example.com"]
    audit("checkpoint")
    (mail,) = mailoutbox
    assert mail.to == ["auditors@example.com", "cfo@example.com"]
    assert f"seq {log}" in mail.subject
    line = next(text for text in mail.body.splitlines() if text.startswith("{"))
    assert Checkpoint.from_json(line).signature_valid(load_public_key(public_key()))


def test_checkpoints_are_logged(log, no_destination, settings, caplog):
    settings.QIYUE_AUDIT_CHECKPOINT_SYSLOG = True
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        audit("checkpoint")
    (record,) = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert Checkpoint.from_json(record.getMessage()).seq == log


def test_the_syslog_setting_sends_the_line_to_a_syslog_server(tmp_path):
    """QIYUE_AUDIT_CHECKPOINT_SYSLOG=host:port routes the checkpoint logger to that syslog server."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(20)
    port = server.getsockname()[1]
    script = ("import logging, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
              "django.setup(); logging.getLogger('qiyue.audit.checkpoint').info('{\"seq\": 7}')")
    env = {k: v for k, v in os.environ.items() if k != "QIYUE_LOG_LEVEL"}
    env.update(QIYUE_DATA_DIR=str(tmp_path), QIYUE_AUDIT_CHECKPOINT_SYSLOG=f"127.0.0.1:{port}")
    subprocess.run([sys.executable, "-c", script], env=env, cwd=BASE_DIR, check=True, timeout=60)
    data, _ = server.recvfrom(4096)
    server.close()
    assert data.startswith(b"<") and b'qiyue-audit-checkpoint: {"seq": 7}' in data


def test_a_failing_destination_does_not_stop_the_others(log, checkpoint_file, settings):
    settings.QIYUE_AUDIT_CHECKPOINT_EMAIL = ["auditors@example.com"]
    settings.EMAIL_BACKEND = "qiyue.no.such.Backend"
    with pytest.raises(CommandError, match="written to file; email failed"):
        audit("checkpoint")
    assert lines(checkpoint_file)[0].seq == log
    assert "email failed" in AuditEvent.objects.order_by("-seq").first().target_label


def test_the_periodic_job_writes_when_the_log_grew(log, checkpoint_file, users, settings):
    (job,) = [j for j in periodic_jobs() if j.name == WRITE_CHECKPOINT]
    assert job.every.total_seconds() == 60 * django_settings.QIYUE_AUDIT_CHECKPOINT_MINUTES
    assert "written to file" in job.function()
    assert job.function().startswith("nothing new since")
    append_events(users["admin"], 1)
    job.function()
    assert [c.seq for c in lines(checkpoint_file)] == [log, log + 2]


def test_the_periodic_job_does_nothing_without_a_destination(log, no_destination):
    assert checkpoint_periodic() == "no checkpoint destination configured"
    assert AuditEvent.objects.order_by("-seq").first().seq == log


def test_an_empty_log_checkpoints_seq_zero(db, checkpoint_file):
    checkpoint = checkpoint_take()
    assert (checkpoint.seq, checkpoint.mac, checkpoint.count) == (0, "", 0)
