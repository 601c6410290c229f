"""Print a new API token for a user: `python manage.py create_api_token USERNAME`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from edm.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print its secret (shown this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument(
            "--read-only", action="store_true", help="the token may read but not change anything"
        )

    def handle(self, *args, username, name, read_only, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user called {username!r}.")
        issued = api_token_create(user=user, name=name, can_write=not read_only)
        # Only the secret on stdout, so scripts can capture it: TOKEN=$(manage.py create_api_token…)
        self.stdout.write(issued.secret)
