"""Failed-login throttling, for every door (web, admin, API token): called from the authentication
backend, so anything that calls django.contrib.auth.authenticate() goes through it.

Three rules, none of which lets a stranger lock the owner out of their usual address:
- per (account, address): LOGIN_FAILURE_LIMIT failures are free, then each further failure doubles
  the wait (2, 4, 8 … seconds, at most LOGIN_MAX_DELAY_SECONDS) counted from the last failure;
- per address, across accounts (password spraying): LOGIN_ADDRESS_LIMIT failures within
  LOGIN_SPRAY_WINDOW_SECONDS refuse that address,
- per account, across addresses (distributed guessing): LOGIN_ACCOUNT_LIMIT failures within the same
  window refuse the account,
but the last two only from addresses the account has not logged in from lately (LoginAddress): the
owner at their usual desk is held only by the first rule.
Failures are remembered LOGIN_FAILURE_WINDOW_SECONDS; a success forgets its pair's failures.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import LoginAddress, LoginFailure


@dataclass
class Lock:
    until: datetime
    reason: str  # "pair", "address" or "account"

    def wait_seconds(self) -> int:
        return max(1, int((self.until - timezone.now()).total_seconds() + 0.999))

    def message(self) -> str:
        wait = self.wait_seconds()
        if wait < 120:
            span = ngettext("%(n)d second", "%(n)d seconds", wait) % {"n": wait}
        else:
            minutes = (wait + 59) // 60
            span = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
        when = date_format(timezone.localtime(self.until), "H:i:s")
        return _("Too many failed logins. Try again after %(time)s (in %(wait)s).") % {"time": when, "wait": span}


class LoginThrottled(Exception):
    def __init__(self, lock: Lock):
        self.lock = lock
        super().__init__(lock.message())


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


def pair_delay(failures: int) -> float:
    """Seconds to wait after the last failure, given the pair's failures (0 while still free)."""
    beyond = failures - settings.LOGIN_FAILURE_LIMIT
    if beyond < 0:
        return 0
    return min(2.0 ** (beyond + 1), settings.LOGIN_MAX_DELAY_SECONDS)


def is_known_address(username: str, ip: str | None) -> bool:
    if not ip:
        return False
    since = timezone.now() - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    return LoginAddress.objects.filter(username=username, ip=ip, last_success_at__gte=since).exists()


def check(username: str, ip: str | None) -> Lock | None:
    """The lock holding this attempt back, or None."""
    username, now = normalise(username), timezone.now()
    remembered = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    pair = LoginFailure.objects.filter(username=username, ip=ip, time__gte=remembered)
    failures = pair.count()
    delay = pair_delay(failures)
    if delay:
        last = pair.order_by("-time").values_list("time", flat=True).first()
        until = last + timedelta(seconds=delay)
        if until > now:
            return Lock(until, "pair")
    if is_known_address(username, ip):
        return None
    window = now - timedelta(seconds=settings.LOGIN_SPRAY_WINDOW_SECONDS)
    for reason, rows, limit in (
        ("address", LoginFailure.objects.filter(ip=ip) if ip else None, settings.LOGIN_ADDRESS_LIMIT),
        ("account", LoginFailure.objects.filter(username=username), settings.LOGIN_ACCOUNT_LIMIT),
    ):
        if rows is None:
            continue
        recent = rows.filter(time__gte=window)
        count = recent.count()
        if count >= limit:
            # Free again when enough of them have left the window to drop below the limit.
            oldest_that_counts = recent.order_by("time").values_list("time", flat=True)[count - limit]
            return Lock(oldest_that_counts + timedelta(seconds=settings.LOGIN_SPRAY_WINDOW_SECONDS), reason)
    return None


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=normalise(username), ip=ip, time=timezone.now())


def record_success(username: str, ip: str | None) -> None:
    """The pair's failures are forgiven, and the address is one the account uses."""
    username = normalise(username)
    LoginFailure.objects.filter(username=username, ip=ip).delete()
    if ip:
        LoginAddress.objects.update_or_create(username=username, ip=ip, defaults={"last_success_at": timezone.now()})


def clear(username: str) -> int:
    """Every failure of the account (an administrator's or the owner's second-factor unlock)."""
    return LoginFailure.objects.filter(username=normalise(username)).delete()[0]


def purge_old() -> int:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    known_since = timezone.now() - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    LoginAddress.objects.filter(last_success_at__lt=known_since).delete()
    return LoginFailure.objects.filter(time__lt=since).delete()[0]
