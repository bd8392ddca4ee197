import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qiyue.accounts.services import team_get_or_create, user_create
from qiyue.core.roles import Role


class Command(BaseCommand):
    help = "Create a user with a role (admin, manager, sales, legal, finance, auditor)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--team", help="Team name; created if it does not exist.")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from standard input (else the user cannot log in until one is set).")

    def handle(self, *args, username, role, team, display_name, email, password_stdin, **options):
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                raise CommandError("No password on standard input.")
        try:
            team_obj = team_get_or_create(actor=None, name=team) if team else None
            user = user_create(actor=None, username=username, role=role, team=team_obj, password=password,
                               display_name=display_name, email=email)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created {user.username} ({user.role}{', team ' + team if team else ''}).")
