import time

from django.core.management.base import BaseCommand

from qiyue.accounts.models import User
from qiyue.ops import demo


class Command(BaseCommand):
    help = ("Load the demo company (7 users, ~30 customers, ~200 contracts) through the services, "
            "and print how to log in.")

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="Load nothing if the database already has users; just print the demo logins.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for the generated data.")
        parser.add_argument("--url", default="http://127.0.0.1:8000/",
                            help="The address to print for logging in (make run passes its HOST and PORT).")

    def handle(self, *args, if_empty: bool, seed: int, url: str, **options):
        self.url = url
        if demo.demo_loaded() or (if_empty and User.objects.exists()):
            if not if_empty:
                self.stderr.write("The demo data is already loaded (the demo users exist); nothing was added.")
            self.print_logins(demo.read_logins())
            return
        started = time.monotonic()
        result = demo.load_demo(seed=seed)
        counts = ", ".join(f"{n} {name}" for name, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded in {time.monotonic() - started:.1f} s: {counts}."))
        self.print_logins(result.logins)

    def print_logins(self, logins):
        if not logins:
            self.stdout.write(f"No demo logins are stored in {demo.logins_path()}; "
                              "create a user with `qiyue createuser NAME --role admin`.")
            return
        self.stdout.write(f"Log in at {self.url} with:")
        width = max(len(username) for username, _, _ in logins)
        for username, password, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {password}  ({role})")
        self.stdout.write(f"(These demo passwords are kept in {demo.logins_path()}.)")
