from django.core.management.base import BaseCommand, CommandError

from qiyue.accounts.models import User
from qiyue.accounts.services import token_issue


class Command(BaseCommand):
    help = "Print the API token of a user (created on first use). Send it as 'Authorization: Token <key>'."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        self.stdout.write(token_issue(actor=None, user=user).key)
