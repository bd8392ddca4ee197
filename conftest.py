import pytest

from qiyue.accounts.tests.factories import make_role_users, make_team


@pytest.fixture(scope="session", autouse=True)
def _flush_in_audit_maintenance():
    """Transactional tests end with a flush that empties every table (DELETE on SQLite, TRUNCATE on
    PostgreSQL), which the append-only audit table refuses: the harness's flush, and nothing else, runs
    in the audit guards' maintenance mode (qiyue.audit.guards). Then it empties the maintained statistics
    again (below)."""
    from django.core.management.commands import flush

    from qiyue.audit.guards import audit_maintenance

    original = flush.Command.handle

    def handle(self, **options):
        using = options.get("database", "default")
        with audit_maintenance(using=using):
            result = original(self, **options)
        # The flush empties the tables in no set order: where it deleted contracts after the statistics
        # their triggers keep, it left those statistics negative. Empty them again.
        from django.db import connections

        from qiyue.contracts.models import ContractMonthStat, ContractStat, ReceivableStat, ReceivableTotal

        with connections[using].cursor() as cursor:
            for model in (ContractStat, ContractMonthStat, ReceivableStat, ReceivableTotal):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush.Command, "handle", handle)
        yield


@pytest.fixture(autouse=True)
def _installed_defaults(request):
    """What the migrations install (the default approval flow, the pre-review rules) is gone after a
    transactional test's flush: a test that uses the database finds it there, as on a fresh install."""
    if not ({"db", "transactional_db", "live_server"} & set(request.fixturenames)
            or request.node.get_closest_marker("django_db")):
        return
    request.getfixturevalue("_django_db_helper")  # the test's own database access, as it asked for it
    from qiyue.workflow.defaults import install_default_flow, install_default_rules
    from qiyue.workflow.models import ApprovalFlow, ApprovalFlowVersion, PreReviewRule

    install_default_flow(ApprovalFlow, ApprovalFlowVersion)
    if not PreReviewRule.objects.exists():
        install_default_rules(PreReviewRule)
    from qiyue.reminders.defaults import install_default_rules as install_reminder_rules
    from qiyue.reminders.models import ReminderRule

    if not ReminderRule.objects.exists():
        install_reminder_rules(ReminderRule)


@pytest.fixture(autouse=True)
def _english_errors(settings):
    # Tests assert on codes; keep rendered text predictable where they do read it.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the audit log's rate limits count in it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _index_at_commit(settings, monkeypatch):
    """Tests read the search index right after a commit, as a user would a moment later once the
    worker has run the queued indexing: here the indexing task runs at commit (django-tasks'
    immediate backend). Tests of the queue itself use `queued_indexing` (qiyue/search/tests)."""
    from qiyue.search import tasks

    settings.TASKS = {**settings.TASKS, "index_now": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(tasks, "index_objects", tasks.index_objects.using(backend="index_now"))


@pytest.fixture
def team_a(db):
    return make_team("East")


@pytest.fixture
def team_b(db):
    return make_team("West")


@pytest.fixture
def users(db, team_a, team_b):
    """One user per role; sales and managers in team A, plus a sales user and a manager in team B."""
    return make_role_users(team_a, team_b)


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Threads of the live server (browser tests) can leave a PostgreSQL session open, which would
    stop the test database from being dropped; end them before teardown drops it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
