"""Users, departments, memberships (user × area or department × role), API tokens."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
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

    @property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships.all()}

    def has_role(self, *roles) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_personal(self) -> bool:
        """Only personal roles (citizen, landlord): the user gets the portal, never the staff pages."""
        cached = getattr(self, "_wangge_personal", None)  # asked by the middleware, the menu and the home page
        if cached is None:
            roles = self.roles
            cached = bool(roles) and roles <= PERSONAL_ROLES and not (self.is_superuser or self.is_staff)
            self._wangge_personal = cached
        return cached


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
