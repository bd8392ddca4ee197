import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qiyue.accounts.models import User
from qiyue.accounts.services import user_set_password


class Command(BaseCommand):
    help = "Set a user's password, read from standard input (audited; use this rather than changepassword)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CommandError("No password on standard input.")
        try:
            user_set_password(actor=None, user=user, password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Password set for {username}.")
