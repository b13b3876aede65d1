"""Cases (案卷): the taxonomy, matter items and deadline rules, the case with its assignments,
its immutable event trail and its photos. State changes live in actions.py, never here."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.areas.models import Level
from wangge.core import refcache
from wangge.core.pii import decrypt

REFS_CACHE = "cases.config"  # the per-process cache of the rows below (cases.refs)


class ReferenceQuerySet(models.QuerySet):
    """Bulk writes of reference rows send no signal: they bump the per-process cache themselves."""

    def update(self, **kwargs):
        count = super().update(**kwargs)
        refcache.bump(REFS_CACHE)
        return count

    def bulk_create(self, *args, **kwargs):
        objs = super().bulk_create(*args, **kwargs)
        refcache.bump(REFS_CACHE)
        return objs

    def bulk_update(self, *args, **kwargs):
        count = super().bulk_update(*args, **kwargs)
        refcache.bump(REFS_CACHE)
        return count


class CategoryKind(models.TextChoices):
    PART = "part", _("Management part")  # 部件
    EVENT = "event", _("Event")  # 事件


class Category(models.Model):
    """A class of the digital city-management lists: a major class, or a minor class under one."""

    kind = models.CharField(_("kind"), max_length=10, choices=CategoryKind.choices)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("major class"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    edition = models.CharField(_("edition"), max_length=60, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="category_kind_code_unique")]

    def __str__(self):
        return f"{self.code} {self.name}"


class Severity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    IMPORTANT = "important", _("Important")
    URGENT = "urgent", _("Urgent")


class MatterItem(models.Model):
    """入格事项: a kind of matter the grid takes in, routed to a default department."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("default department"), null=True, blank=True, on_delete=models.SET_NULL
    )
    default_severity = models.CharField(
        _("default severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("matter item")
        verbose_name_plural = _("matter items")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class DeadlineRule(models.Model):
    """Time limits for a matter item × severity; a rule with no matter item is the default."""

    matter_item = models.ForeignKey(
        MatterItem, verbose_name=_("matter item"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    dispatch_hours = models.FloatField(_("hours to dispatch"), default=2)
    handle_hours = models.FloatField(_("hours to handle"), default=48)
    working_hours = models.BooleanField(_("count working hours only"), default=False)
    remind_before_hours = models.FloatField(_("remind hours before the deadline"), default=24)
    escalate_when_overdue = models.BooleanField(_("escalate when overdue"), default=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.UniqueConstraint(fields=["matter_item", "severity"], name="deadline_rule_unique"),
            models.UniqueConstraint(
                fields=["severity"], condition=models.Q(matter_item__isnull=True), name="deadline_rule_default_unique"
            ),
        ]

    def __str__(self):
        return f"{self.matter_item or _('default')} · {self.get_severity_display()}"


class Channel(models.TextChoices):
    GRID_MANAGER = "grid_manager", _("Grid manager")
    CITIZEN_WEB = "citizen_web", _("Citizen (web)")
    HOTLINE = "hotline", _("Hotline")
    LANDLORD = "landlord", _("Landlord")
    API = "api", _("Other system (API)")
    SENSOR = "sensor", _("Sensor")
    OPEN311 = "open311", _("Open311 application")
    # An external hotline platform (the city's 12345) pushing its work orders (app workorders).
    WORKORDER = "workorder", _("Work order (hotline platform)")
    # 未诉先办: the command center files a recurring spot itself, before the next complaint (app proactive).
    PROACTIVE = "proactive", _("Proactive (act before the complaint)")


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")  # 信息收集: waiting to be registered
    REGISTERED = "registered", _("Registered")  # 案卷建立: waiting to be dispatched
    HANDLING = "handling", _("Being handled")  # 任务派遣 + 任务处理
    VERIFYING = "verifying", _("Awaiting verification")  # 处理反馈 → 核查
    CLOSED = "closed", _("Closed")  # 核查结案
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")


OPEN_STATUSES = (Status.REPORTED, Status.REGISTERED, Status.HANDLING, Status.VERIFYING)
# The closure rate (结案率): finished cases — closed, with or without a fix — of the cases reported
# less the rejected and the merged ones. A rejected or merged case is never "finished": it leaves the
# rate's base instead, so rejecting cannot raise the rate.
FINISHED_STATUSES = (Status.CLOSED,)
NOT_COUNTED_STATUSES = (Status.REJECTED, Status.MERGED)


class Outcome(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    HANDLED_ON_SITE = "handled_on_site", _("Handled on site")
    NOT_RESPONSIBLE = "not_responsible", _("Not the city's responsibility")
    CANNOT_FIX = "cannot_fix", _("Cannot be fixed")
    WITHDRAWN = "withdrawn", _("Withdrawn by the reporter")
    ANSWERED = "answered", _("Answered on the spot")  # a hotline consultation (咨询), never dispatched


COMMAND_LEVELS = [Level.VILLAGE, Level.TOWN, Level.CITY]  # escalation climbs this list


class Case(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=12, unique=True)
    # "<submitter>:<client key>", so that two systems' keys never collide.
    idempotency_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    # sha256 of the report the key came with: a replay with another report is refused, not answered.
    idempotency_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_reason = models.TextField(_("outcome reason"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="cases")
    area_path = models.CharField(max_length=255, db_index=True)  # copy of area.path: scope filters on it
    command_level = models.CharField(_("command level"), max_length=10, default=Level.VILLAGE)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # the (category, …) indexes below serve it: one index less to write per case
    )
    matter_item = models.ForeignKey(
        MatterItem, verbose_name=_("matter item"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    reporter_phone_encrypted = models.TextField(blank=True)
    # Keyed hash of the normalised phone (core.pii.lookup_hash): the hotline desk finds a caller's
    # earlier cases by it (indexed), without decrypting.
    reporter_phone_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("likely duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    dispatch_deadline = models.DateTimeField(_("dispatch deadline"), null=True, blank=True)
    # The time the case must be finished by, set by whoever sent it (a hotline platform's work
    # order): dispatch and assignment deadlines never run past it.
    due_at = models.DateTimeField(_("due by"), null=True, blank=True)
    is_overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    dispatch_overdue_at = models.DateTimeField(null=True, blank=True)
    handled_on_site = models.BooleanField(_("handled on site"), default=False)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    satisfaction_comment = models.TextField(_("satisfaction comment"), blank=True)
    dispatcher_rating = models.PositiveSmallIntegerField(_("dispatcher rating"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "area_path"]),
            models.Index(fields=["category", "created_at"]),
            # The duplicate check: a latitude band, longitudes checked in the index (no row lookup).
            models.Index(fields=["category", "lat", "lng"], name="case_category_lat_lng_idx"),
            models.Index(fields=["status", "lat"], name="case_status_lat_idx"),  # the command map's viewport
            # The evaluation's recurrence: the same category in the same grid in the days before.
            models.Index(fields=["area", "category", "created_at"], name="case_area_category_created_idx"),
        ]

    def __str__(self):
        return self.number or self.tracking_number

    @property
    def command_level_label(self):
        return Level(self.command_level).label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reporter_phone(self) -> str:
        return decrypt(self.reporter_phone_encrypted) if self.reporter_phone_encrypted else ""


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be accepted")
    ACCEPTED = "accepted", _("Accepted")
    DONE = "done", _("Reported back")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_ASSIGNMENT = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)


class ReturnDecision(models.TextChoices):
    """The dispatcher's word on a department's return: an accepted return leaves the department's
    evaluation; an overruled one sends the work back and counts against the department."""

    NONE = "", _("Not decided")
    ACCEPTED = "accepted", _("Return accepted")
    OVERRULED = "overruled", _("Return overruled")


# A return the dispatcher has not decided on yet (退回待审核): it still counts against the department.
RETURN_WAITING = models.Q(status=AssignmentStatus.RETURNED, return_decision=ReturnDecision.NONE)


class ExtensionStatus(models.TextChoices):
    NONE = "", _("None")
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class Assignment(models.Model):
    """One department's share of a case: several for joint handling, each with its own deadline."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey("accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT)
    status = models.CharField(
        _("status"), max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING
    )
    deadline = models.DateTimeField(_("deadline"))
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    extension_status = models.CharField(max_length=10, choices=ExtensionStatus.choices, blank=True, default="")
    extension_hours = models.FloatField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    feedback = models.TextField(_("feedback"), blank=True)
    return_reason = models.TextField(_("return reason"), blank=True)
    return_decision = models.CharField(
        _("return decision"), max_length=10, choices=ReturnDecision.choices, blank=True, default=""
    )
    return_decided_at = models.DateTimeField(null=True, blank=True)
    # Times a verification on site found the work not done (返工): the evaluation counts it.
    rework_count = models.PositiveSmallIntegerField(_("rework"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "deadline"]), models.Index(fields=["status", "remind_at"])]

    def __str__(self):
        return f"{self.case} → {self.department}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT

    @property
    def waits_for_return_decision(self) -> bool:
        """Returned, and the dispatcher has not said yet whether the return stands (退回待审核)."""
        return self.status == AssignmentStatus.RETURNED and self.return_decision == ReturnDecision.NONE


# What each step of the trail is called on pages; the transition table uses the same labels.
ACTION_LABELS = {
    "report": _("Reported"),
    "register": _("Register"),
    "reject": _("Reject"),
    "handle_on_site": _("Handled on site"),
    "dispatch": _("Dispatch"),
    "recall": _("Take back the dispatch"),
    "accept": _("Accept"),
    "return": _("Return (not ours)"),
    "request_extension": _("Ask for more time"),
    "decide_extension": _("Decide on more time"),
    "decide_return": _("Decide on a return"),
    "feedback": _("Report back"),
    "escalate": _("Escalate"),
    "verify_pass": _("Verified: fixed"),
    "verify_fail": _("Verified: not fixed"),
    "close": _("Close without a fix"),
    "evaluate": _("Evaluate"),
    "reopen": _("Reopen"),
    "callback": _("Callback"),
    "merge": _("Merge into another case"),
    "answer": _("Answered on the spot"),
    "caller_linked": _("Caller linked"),
    "overdue": _("Deadline passed"),
    "dispatch_overdue": _("Not dispatched in time"),
    "appeal": _("Appeal against the evaluation"),
    "appeal_decision": _("Decision on an appeal"),
    "summoned": _("Departments summoned to the site"),
    "summons_arrival": _("Arrival on site reported"),
    "summons_overdue": _("Not all arrived by the summons' deadline"),
    "summons_closed": _("Summons closed"),
}


# Actors that are not a role: the system (deadlines, sensors), the public (anonymous reports: 市民), the reporter.
ACTOR_KINDS = {"system": _("System"), "public": _("Citizen"), "reporter": _("Reporter"), "admin": _("Administrator")}


class CaseEvent(models.Model):
    """One step of the trail. Appended by the actions layer, never changed afterwards."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=30, blank=True)
    note = models.TextField(_("note"), blank=True)
    is_public = models.BooleanField(default=True)  # shown on the citizen's tracking page
    data = models.JSONField(default=dict, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.case} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("case events are immutable")
        super().save(*args, **kwargs)

    @property
    def label(self):
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def actor_role_label(self):
        """The actor's role as users call it (the column keeps the code: a Role value, or system/public)."""
        from wangge.accounts.models import Role

        return ACTOR_KINDS.get(self.actor_role) or (
            Role(self.actor_role).label if self.actor_role in Role.values else self.actor_role
        )

    @property
    def department_names(self) -> list[str]:
        """The departments a step names (data keeps their codes), by name."""
        from wangge.accounts.models import Department

        codes = self.data.get("departments") or []
        names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
        return [names.get(code, code) for code in codes]

    @property
    def from_label(self):
        return Status(self.from_status).label if self.from_status in Status.values else self.from_status

    @property
    def to_label(self):
        return Status(self.to_status).label if self.to_status in Status.values else self.to_status


def photo_path(photo, filename):
    now = timezone.localtime()
    return f"cases/{now:%Y/%m}/{photo.token}{'.jpg' if 'thumb' not in filename else '-thumb.jpg'}"


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos")
    token = models.CharField(max_length=32, unique=True)  # file name: not guessable
    image = models.ImageField(upload_to=photo_path)
    thumbnail = models.ImageField(upload_to=photo_path, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["id"]

    def __str__(self):
        return self.token


class CaseActionKey(models.Model):
    """An action taken under a client's idempotency key (the field app's outbox sends every action
    with one): the same request sent again answers with the case instead of acting twice."""

    key = models.CharField(max_length=200, unique=True)  # in the client's space: "u<user id>:<key>"
    digest = models.CharField(max_length=64)  # of the request (case, action, version, parameters)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    event = models.OneToOneField(CaseEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.key
