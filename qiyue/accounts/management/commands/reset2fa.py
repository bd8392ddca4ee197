from django.core.management.base import BaseCommand, CommandError

from qiyue.accounts.models import User
from qiyue.accounts.services import two_factor_reset


class Command(BaseCommand):
    help = ("Remove a user's two-factor authenticator and recovery codes (a lost phone; audited). The user "
            "then logs in with the password alone, or sets up a new app right after it if their role requires it.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if two_factor_reset(actor=None, user=user):
            self.stdout.write(f"Two-factor authentication reset for {username}.")
        else:
            self.stdout.write(f"{username} had no two-factor authentication set up; nothing changed.")
