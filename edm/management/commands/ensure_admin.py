"""Create the first admin login on first run and print it; afterwards print where it is."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create an admin user if none exists, and print how to log in."

    def handle(self, *args, **options):
        users = get_user_model()
        saved = settings.VAR_DIR / "admin-login.txt"
        if not users.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            users.objects.create_superuser(USERNAME, email="", password=password)
            fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{USERNAME}\n{password}\n")
            self.stdout.write(f"Created the admin login: user {USERNAME}, password {password}")
            self.stdout.write(f"(kept in {saved}; change it on the admin page)")
        elif saved.exists():
            username, password = saved.read_text().split()[:2]
            self.stdout.write(
                f"Admin login: user {username}, password {password} "
                f"(from {saved}; if you changed it, use yours)"
            )
        else:
            names = users.objects.filter(is_superuser=True).values_list("username", flat=True)
            self.stdout.write(
                f"Log in as an existing admin: {', '.join(names[:5])} "
                "(`python manage.py changepassword NAME` to reset a password)"
            )
