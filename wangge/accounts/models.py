"""Users, departments, memberships (user × area or department × role), API tokens."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.areas.models import Level
from wangge.core import pii


class Role(models.TextChoices):
    GRID_MANAGER = "grid_manager", _("Grid manager")
    VILLAGE_DISPATCHER = "village_dispatcher", _("Village dispatcher")
    TOWN_DISPATCHER = "town_dispatcher", _("Town dispatcher")
    CITY_DISPATCHER = "city_dispatcher", _("City dispatcher")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", _("System administrator")
    LANDLORD = "landlord", _("Landlord")
    CITIZEN = "citizen", _("Citizen")
    CALL_TAKER = "call_taker", _("Hotline operator")


# Which area levels a role may be tied to; DEPARTMENT_HANDLER is tied to a department instead,
# landlords and citizens to nothing (they see only their own records).
ROLE_AREA_LEVELS = {
    Role.GRID_MANAGER: {Level.GRID, Level.SUBGRID, Level.VILLAGE},
    Role.VILLAGE_DISPATCHER: {Level.VILLAGE},
    Role.TOWN_DISPATCHER: {Level.TOWN},
    Role.CITY_DISPATCHER: {Level.CITY},
    Role.LEADER: {Level.CITY, Level.TOWN, Level.VILLAGE},
    Role.ADMIN: {Level.CITY, Level.TOWN},
    # The 12345 desk answers for the whole city or, where a town runs its own line, for the town.
    Role.CALL_TAKER: {Level.CITY, Level.TOWN},
}
DEPARTMENT_ROLES = {Role.DEPARTMENT_HANDLER, Role.LEADER}
PERSONAL_ROLES = {Role.LANDLORD, Role.CITIZEN}

# Django permissions that come with a role (wangge.accounts.backends.RoleModelBackend adds them to
# user.has_perm); an administrator can still grant one to a single user in the admin.
ROLE_PERMISSIONS = {
    Role.GRID_MANAGER: {"privacy.reveal_personal_data"},
    Role.VILLAGE_DISPATCHER: {"privacy.reveal_personal_data"},
    Role.TOWN_DISPATCHER: {"privacy.reveal_personal_data"},
    Role.CITY_DISPATCHER: {"privacy.reveal_personal_data"},
    Role.CALL_TAKER: {"privacy.reveal_personal_data"},  # calls citizens back (回访): the full number, logged
    Role.ADMIN: {"privacy.reveal_personal_data", "privacy.view_personaldataaccess"},
}


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    # Mobile for SMS notifications, encrypted at rest (wangge.core.pii); use .phone / set_phone().
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.username

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_encrypted)

    def set_phone(self, value: str) -> None:
        """Normalise, validate and encrypt a phone number ("" clears it). Does not save."""
        phone = pii.normalize_phone(value)
        if phone and not pii.is_valid_phone(phone):
            raise ValidationError({"phone": _("Enter a valid phone number.")})
        self.phone_encrypted = pii.encrypt(phone)

    # ------------------------------------------------------------ memberships, read once per instance
    # A request's user is a fresh instance, so "once per instance" is once per request (an API
    # token's user is a copy of a per-process one whose memberships are prefetched: no query).
    # Everything worked out from them (roles, the scope, the case roles, the command areas...) is
    # kept beside them through from_memberships() and forgotten with them by forget_memberships(),
    # which the accounts actions and the Membership signals call on the instance they were given.

    @property
    def membership_list(self) -> list["Membership"]:
        """The user's memberships with their area and department (the department's area too), in one
        query; boundaries left out. A list: filter it in Python, never query it again."""
        return self.from_memberships("memberships", self._load_memberships)

    def _load_memberships(self) -> list["Membership"]:
        prefetched = self.__dict__.get("_prefetched_objects_cache", {}).get("memberships")
        if prefetched is not None:
            return list(prefetched)
        if self.pk is None:
            return []
        # Through the related manager: each membership's .user is this very instance.
        return list(with_places(self.memberships.all()))

    def from_memberships(self, key: str, compute):
        """compute(), kept on this instance until its memberships change (forget_memberships)."""
        cache = self.__dict__.setdefault(_MEMBERSHIP_CACHE, {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def forget_memberships(self) -> None:
        """Drop the memberships read for this instance and all worked out from them: they changed."""
        self.__dict__.pop(_MEMBERSHIP_CACHE, None)
        prefetched = self.__dict__.get("_prefetched_objects_cache")
        if prefetched and "memberships" in prefetched:
            # A new dict: a copied user (the API token cache's) shares the old one with the original.
            self._prefetched_objects_cache = {k: v for k, v in prefetched.items() if k != "memberships"}

    def __getstate__(self):
        # A copy (the API token cache hands out one per request) or a pickle starts without the
        # worked-out values: they would be shared with, and outlive, the original's.
        state = super().__getstate__()
        state.pop(_MEMBERSHIP_CACHE, None)
        return state

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self.forget_memberships()

    @property
    def roles(self) -> frozenset[str]:
        return self.from_memberships("roles", lambda: frozenset(m.role for m in self.membership_list))

    def has_role(self, *roles) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_personal(self) -> bool:
        """Only personal roles (citizen, landlord): the user gets the portal, never the staff pages."""
        roles = self.roles
        return bool(roles) and roles <= PERSONAL_ROLES and not (self.is_superuser or self.is_staff)


_MEMBERSHIP_CACHE = "_wangge_membership_cache"


def with_places(memberships: models.QuerySet) -> models.QuerySet:
    """Memberships with their area, department and the department's area in the same query; the
    boundaries (GeoJSON, a town's is large) left out. How User.membership_list reads them, and what
    a prefetch of users' memberships should use so that list costs nothing."""
    return memberships.select_related("area", "department__area").defer("area__boundary", "department__area__boundary")


class DepartmentLevel(models.TextChoices):
    CITY = "city", _("City")
    TOWN = "town", _("Town")


class Department(models.Model):
    """A department that takes cases (入格部门): police, fire, market regulation…"""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=DepartmentLevel.choices, default=DepartmentLevel.CITY)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="departments")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["level", "code"]

    def __str__(self):
        return self.name

    def history_snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "area": self.area.code,
            "is_active": self.is_active,
        }


class Membership(models.Model):
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area"], condition=models.Q(department=None), name="unique_area_membership"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=models.Q(area=None),
                name="unique_department_membership",
            ),
        ]

    def __str__(self):
        where = self.area or self.department or ""
        return f"{self.user} · {self.get_role_display()} · {where}"

    def history_snapshot(self) -> dict:
        return {
            "user": self.user.username,
            "role": self.role,
            "area": self.area.code if self.area_id else None,
            "department": self.department.code if self.department_id else None,
        }


def _forget_user_memberships(sender, instance, raw=False, **kwargs):
    """A membership saved or deleted through its own instance: the user instance it holds (the one
    it was created with, or read through) asks again. Actions forget on the user they are given too."""
    if raw:
        return
    user = instance._state.fields_cache.get("user")
    if user is not None:
        user.forget_memberships()


post_save.connect(_forget_user_memberships, sender=Membership, dispatch_uid="accounts-membership-forget")
post_delete.connect(_forget_user_memberships, sender=Membership, dispatch_uid="accounts-membership-forget-del")


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user})"


class LoginFailure(models.Model):
    """One failed login, kept for throttling (settings.LOGIN_FAILURE_WINDOW_SECONDS; accounts/throttle.py)."""

    username = models.CharField(_("user name"), max_length=150, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, db_index=True)
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        indexes = [models.Index(fields=["username", "ip", "time"], name="loginfailure_pair")]

    def __str__(self):
        return f"{self.username} @ {self.ip} {self.time:%Y-%m-%d %H:%M}"


class LoginAddress(models.Model):
    """An address an account logged in from: the account-wide and address-wide limits spare it, so a
    stranger's guessing does not lock the owner out of their usual desk."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField()
    last_success_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["username", "ip"], name="unique_login_address")]

    def __str__(self):
        return f"{self.username} @ {self.ip}"
