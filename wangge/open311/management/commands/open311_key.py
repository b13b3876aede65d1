"""wangge open311_key NAME [--rate N]: issue an Open311 API key to a client application and print it
(the only time it is shown)."""

from django.core.management.base import BaseCommand, CommandError

from wangge.open311.keys import issue_key


class Command(BaseCommand):
    help = "Issue an Open311 API key to a client application and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the client application's name")
        parser.add_argument("--rate", type=int, default=60, help="requests per minute (default 60)")

    def handle(self, *args, name, rate, **options):
        if not name.strip() or len(name.strip()) > 100:
            raise CommandError("NAME: 1 to 100 characters.")
        if rate < 1:
            raise CommandError("--rate: at least 1.")
        client, key = issue_key(name, None, rate_per_minute=rate)
        self.stdout.write(key)
        self.stderr.write(f"Open311 client {client.pk} “{client.name}”: keep the key above, it is not stored.")
