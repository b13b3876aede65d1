from django.core.management.base import CommandError

from wangge.accounts.actions import unlock_logins
from wangge.accounts.models import User
from wangge.core.commands import ActionCommand


class Command(ActionCommand):
    help = "Lift the failed-login lock of one or more users (and the slow-down of their verification code)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, usernames, **options):
        for username in usernames:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
            cleared = unlock_logins(user)
            self.stdout.write(f"{username}: unlocked ({cleared} failed logins forgotten)")
