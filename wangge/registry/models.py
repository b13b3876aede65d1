"""The registers (二标四实): standard addresses, buildings and rooms, people and their tenancies,
rental houses, places and market entities, and their configuration lists.

Every register row keeps its area and a copy of the area path (jurisdiction filters on it) and a
version (concurrent edits: one wins, the other gets 409). Personal data (ID numbers, passport
numbers, phones) is stored encrypted (wangge.core.pii) with a keyed lookup hash and a masked copy
for lists; state changes go through actions.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core import pii


class RegisterRow(models.Model):
    """What every register row has: its leaf area and path, a version, creation and update times."""

    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, db_index=True, editable=False)  # copy of area.path
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        abstract = True


# --- configuration lists (edited in the admin) -------------------------------------------------


class ConfigItem(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class BuildingUse(ConfigItem):
    class Meta(ConfigItem.Meta):
        verbose_name = _("building use")
        verbose_name_plural = _("building uses")


class PlaceType(ConfigItem):
    # 三小场所 (small shop, small workshop, small entertainment venue) get closer fire-safety checks.
    is_three_small = models.BooleanField(_("three-small place (三小场所)"), default=False)

    class Meta(ConfigItem.Meta):
        verbose_name = _("place type")
        verbose_name_plural = _("place types")


class TagKind(models.TextChoices):
    PERSON = "person", _("Person")
    PLACE = "place", _("Place")


class Tag(ConfigItem):
    """Person tags (key person categories, elderly living alone, disabled…) and place risk tags."""

    kind = models.CharField(_("applies to"), max_length=10, choices=TagKind.choices)

    class Meta(ConfigItem.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")


# --- standard addresses ---------------------------------------------------------------------


class StandardAddress(RegisterRow):
    code = models.CharField(_("address code"), max_length=40, unique=True)
    town = models.CharField(_("town / street"), max_length=50, blank=True)
    community = models.CharField(_("village / community"), max_length=50, blank=True)
    road = models.CharField(_("road / street"), max_length=80, blank=True)
    number = models.CharField(_("door number"), max_length=30, blank=True)
    building_no = models.CharField(_("building"), max_length=30, blank=True)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    room = models.CharField(_("room"), max_length=30, blank=True)
    full_text = models.CharField(_("full address"), max_length=300)
    # full_text and the code normalised (NFKC: full-width digits and letters folded, lower case, no
    # spaces or punctuation): "any part of the text" is a substring match on this one column.
    search_text = models.CharField(max_length=400, editable=False)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))

    class Meta:
        verbose_name = _("standard address")
        verbose_name_plural = _("standard addresses")
        ordering = ["code"]
        # No (area_path, road) index: nothing filters by it, and every index costs a bulk import a
        # fifth of its insert time. The jurisdiction's prefix filter has area_path's own index.
        indexes = [models.Index(fields=["lat", "lng"])]

    def __str__(self):
        return self.full_text

    def history_snapshot(self) -> dict:
        return {
            f: getattr(self, f)
            for f in ("code", "town", "community", "road", "number", "building_no", "unit", "room", "full_text")
        } | {"lat": self.lat, "lng": self.lng, "area": self.area.code}


# --- buildings and rooms ----------------------------------------------------------------------


class RiskClass(models.IntegerChoices):
    LOW = 1, _("Class 1 (low)")
    MEDIUM = 2, _("Class 2 (medium)")
    HIGH = 3, _("Class 3 (high)")


class Building(RegisterRow):
    code = models.CharField(_("building code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.ForeignKey(
        StandardAddress, verbose_name=_("address"), on_delete=models.PROTECT, related_name="buildings"
    )
    use = models.ForeignKey(BuildingUse, verbose_name=_("use"), on_delete=models.PROTECT, related_name="+")
    floors = models.PositiveSmallIntegerField(_("floors"))
    risk_class = models.PositiveSmallIntegerField(_("risk class"), choices=RiskClass.choices, default=RiskClass.LOW)
    contact_name = models.CharField(_("owner / manager"), max_length=50, blank=True)
    contact_phone_encrypted = models.TextField(blank=True, editable=False)
    contact_phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    contact_phone_masked = models.CharField(_("owner / manager phone"), max_length=20, blank=True, editable=False)
    # The door plate's QR code opens /q/<qr_token>/: a random token, not the code, so plates
    # cannot be enumerated.
    qr_token = models.CharField(max_length=24, unique=True, editable=False)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def contact_phone(self) -> str:
        return pii.decrypt(self.contact_phone_encrypted)

    def history_snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "address": self.address.code,
            "use": self.use.code,
            "floors": self.floors,
            "risk_class": self.risk_class,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone_masked,
            "area": self.area.code,
        }


class Room(models.Model):
    building = models.ForeignKey(Building, verbose_name=_("building"), on_delete=models.CASCADE, related_name="rooms")
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    number = models.CharField(_("room number"), max_length=20)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    size_sqm = models.FloatField(_("floor area (m²)"), null=True, blank=True)
    # Declared by the landlord or the grid manager: an occupied room must have its tenants declared.
    is_occupied = models.BooleanField(_("occupied"), default=False)
    area_path = models.CharField(max_length=255, db_index=True, editable=False)  # the building's
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["building", "unit", "number"]
        constraints = [models.UniqueConstraint(fields=["building", "unit", "number"], name="room_unique_number")]

    def __str__(self):
        unit = f"{self.unit}-" if self.unit else ""
        return f"{self.building.name} {unit}{self.number}"

    def history_snapshot(self) -> dict:
        return {
            "building": self.building.code,
            "unit": self.unit,
            "number": self.number,
            "floor": self.floor,
            "size_sqm": self.size_sqm,
            "is_occupied": self.is_occupied,
        }


# --- people and tenancies ---------------------------------------------------------------------


class PersonType(models.TextChoices):
    REGISTERED = "registered", _("Registered resident")  # 户籍人口
    FLOATING = "floating", _("Floating population")  # 流动人口
    OVERSEAS = "overseas", _("Overseas")  # 境外人员


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Person(RegisterRow):
    name = models.CharField(_("name"), max_length=60, db_index=True)
    # The name as it sounds (validators.name_key: toneless pinyin), set with the name by the actions:
    # watch-list screening joins on (birth_date, name_key).
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    person_type = models.CharField(_("person type"), max_length=12, choices=PersonType.choices)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    # Keyed hash: exact lookups and uniqueness without decrypting; NULL when there is none.
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=20, blank=True, editable=False)
    passport_encrypted = models.TextField(blank=True, editable=False)
    passport_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    passport_masked = models.CharField(_("passport number"), max_length=30, blank=True, editable=False)
    nationality = models.CharField(_("nationality"), max_length=40, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="people")
    residence = models.ForeignKey(
        Room,
        verbose_name=_("current residence"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["birth_date", "name_key"])]

    def __str__(self):
        return self.name

    @property
    def id_number(self) -> str:
        return pii.decrypt(self.id_number_encrypted)

    @property
    def passport(self) -> str:
        return pii.decrypt(self.passport_encrypted)

    @property
    def phone(self) -> str:
        return pii.decrypt(self.phone_encrypted)

    def history_snapshot(self) -> dict:
        from wangge.privacy.shown import snapshot_birth

        # Personal data only masked: change records are read by more people than the register.
        return {
            "name": self.name,
            "person_type": self.person_type,
            "id_number": self.id_number_masked,
            "passport": self.passport_masked,
            "nationality": self.nationality,
            "birth_date": snapshot_birth(self.birth_date),  # the year only: beside the masked ID number
            "sex": self.sex,
            "phone": self.phone_masked,
            "residence": self.residence_id,
            "area": self.area.code,
            "tags": sorted(self.tags.values_list("code", flat=True)) if self.pk else [],
        }


class TenancySource(models.TextChoices):
    GRID_MANAGER = "grid_manager", _("Grid manager")
    LANDLORD = "landlord", _("Landlord")
    IMPORT = "import", _("Import")
    SELF = "self", _("Self-declared")


class Tenancy(models.Model):
    """One stay of a person in a room: moved in, and moved out once it has ended."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="tenancies")
    room = models.ForeignKey(Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="tenancies")
    moved_in = models.DateField(_("moved in"))
    moved_out = models.DateField(_("moved out"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=15, choices=TenancySource.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    area_path = models.CharField(max_length=255, db_index=True, editable=False)  # the room's
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tenancy")
        verbose_name_plural = _("tenancies")
        ordering = ["-moved_in", "-id"]
        constraints = [
            # A person has one current residence.
            models.UniqueConstraint(fields=["person"], condition=Q(moved_out__isnull=True), name="one_current_tenancy")
        ]
        indexes = [models.Index(fields=["room", "moved_out"])]

    def __str__(self):
        return f"{self.person} @ {self.room}"

    @property
    def is_current(self) -> bool:
        return self.moved_out is None

    def history_snapshot(self) -> dict:
        return {
            "person": self.person_id,
            "room": str(self.room),
            "moved_in": self.moved_in.isoformat(),
            "moved_out": self.moved_out.isoformat() if self.moved_out else None,
            "source": self.source,
        }


# --- rental houses --------------------------------------------------------------------------


class RentalStatus(models.TextChoices):
    ACTIVE = "active", _("Rented out")
    ENDED = "ended", _("No longer rented")


class RentalHouse(RegisterRow):
    """A building (all its rooms) or some of its rooms registered as rented out (出租屋)."""

    building = models.ForeignKey(Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="rentals")
    # Empty: the whole building is rented out.
    rooms = models.ManyToManyField(Room, verbose_name=_("rooms"), blank=True, related_name="rentals")
    status = models.CharField(_("status"), max_length=10, choices=RentalStatus.choices, default=RentalStatus.ACTIVE)
    landlord_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("landlord (user)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rental_houses",
    )
    landlord_name = models.CharField(_("landlord"), max_length=50, blank=True)
    landlord_phone_encrypted = models.TextField(blank=True, editable=False)
    landlord_phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    landlord_phone_masked = models.CharField(_("landlord phone"), max_length=20, blank=True, editable=False)
    registered_on = models.DateField(_("registered on"), default=timezone.localdate)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rental house")
        verbose_name_plural = _("rental houses")
        ordering = ["-registered_on", "-id"]

    def __str__(self):
        return f"{self.building.name} ({self.get_status_display()})"

    @property
    def landlord_phone(self) -> str:
        return pii.decrypt(self.landlord_phone_encrypted)

    def history_snapshot(self) -> dict:
        return {
            "building": self.building.code,
            "rooms": sorted(str(r) for r in self.rooms.all()) if self.pk else [],
            "status": self.status,
            "landlord_user": self.landlord_user.username if self.landlord_user_id else None,
            "landlord_name": self.landlord_name,
            "landlord_phone": self.landlord_phone_masked,
            "registered_on": self.registered_on.isoformat() if self.registered_on else None,
            "note": self.note,
        }


class DeclarationStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting verification")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class TenantDeclaration(models.Model):
    """A landlord's declaration of a tenant who is registered at another address (租户申报): the
    grid staff of the rental's area verify it (网格员核实) before the person moves in. Until then
    the landlord learns nothing about the registered person, and their residence stays as it is."""

    rental = models.ForeignKey(RentalHouse, verbose_name=_("rental house"), on_delete=models.CASCADE,
                               related_name="declarations")  # fmt: skip
    room = models.ForeignKey(Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="+")
    # Empty once a rejected declaration's person, registered only by it, was taken out of the register.
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declared_name = models.CharField(_("declared name"), max_length=60)  # as the landlord typed it
    moved_in = models.DateField(_("moved in"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.PENDING
    )
    area_path = models.CharField(max_length=255, db_index=True, editable=False)  # the room's: who verifies
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    tenancy = models.ForeignKey(Tenancy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("tenant declaration")
        verbose_name_plural = _("tenant declarations")
        ordering = ["-declared_at", "-id"]
        constraints = [
            # Declaring the same person into the same room again while one waits adds nothing.
            models.UniqueConstraint(
                fields=["person", "room"], condition=Q(status="pending"), name="one_pending_declaration"
            )
        ]

    def __str__(self):
        return f"{self.declared_name} → {self.room}"

    @property
    def name_matches(self) -> bool:
        """Whether the declared name is the registered one (the verifier sees this, not the name)."""
        return self.person is not None and self.declared_name.replace(" ", "") == self.person.name.replace(" ", "")

    def history_snapshot(self) -> dict:
        return {
            "rental": self.rental_id,
            "room": str(self.room),
            "person": self.person_id,
            "declared_name": self.declared_name,
            "moved_in": self.moved_in.isoformat(),
            "status": self.status,
        }


# --- places and market entities ---------------------------------------------------------------


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("Licensed")
    PENDING = "pending", _("Applied for")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    NONE = "none", _("Unlicensed")


class Place(RegisterRow):
    name = models.CharField(_("name"), max_length=100, db_index=True)
    place_type = models.ForeignKey(PlaceType, verbose_name=_("place type"), on_delete=models.PROTECT, related_name="+")
    # 统一社会信用代码 (GB 32100); NULL for a place that has none (an unlicensed stall).
    credit_code = models.CharField(_("unified social credit code"), max_length=18, null=True, blank=True, unique=True)
    licence_status = models.CharField(_("licence"), max_length=10, choices=LicenceStatus.choices)
    licence_expires = models.DateField(_("licence expires"), null=True, blank=True)
    address = models.ForeignKey(
        StandardAddress, verbose_name=_("address"), on_delete=models.PROTECT, related_name="places"
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL, related_name="places"
    )
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone_encrypted = models.TextField(blank=True, editable=False)
    contact_phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=20, blank=True, editable=False)
    risk_tags = models.ManyToManyField(Tag, verbose_name=_("risk tags"), blank=True, related_name="places")

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def contact_phone(self) -> str:
        return pii.decrypt(self.contact_phone_encrypted)

    def history_snapshot(self) -> dict:
        return {
            "name": self.name,
            "place_type": self.place_type.code,
            "credit_code": self.credit_code,
            "licence_status": self.licence_status,
            "licence_expires": self.licence_expires.isoformat() if self.licence_expires else None,
            "address": self.address.code,
            "building": self.building.code if self.building_id else None,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone_masked,
            "risk_tags": sorted(self.risk_tags.values_list("code", flat=True)) if self.pk else [],
            "area": self.area.code,
        }
