from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "qiyue.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from .middleware import note_login

        post_migrate.connect(_refresh_planner_statistics, sender=self)
        user_logged_in.connect(note_login, dispatch_uid="qiyue_session_login_time")


def _refresh_planner_statistics(sender, using="default", plan=None, apps=None, **kwargs):
    # SQLite's planner chooses indexes from the statistics ANALYZE leaves in sqlite_stat1. An index a
    # migration just created has none, and the planner may then prefer a worse one (at a million
    # contracts, 5 against 100 ms). After a migrate, analyze the tables of every app it migrated,
    # fully: a sampled ANALYZE (analysis_limit) misjudges low-cardinality columns such as status
    # and team, which is worse than none. Two seconds for a million contracts.
    # (PostgreSQL's autovacuum keeps its own statistics.)
    from django.apps import apps as global_apps
    from django.db import connections

    connection = connections[using]
    if not plan or connection.vendor != "sqlite":
        return
    labels = {migration.app_label for migration, backwards in plan if not backwards}
    existing = set(connection.introspection.table_names())
    tables = sorted({model._meta.db_table for label in labels if label in global_apps.app_configs
                     for model in global_apps.get_app_config(label).get_models()} & existing)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 0")
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')
