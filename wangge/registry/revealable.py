"""The registers' personal-data fields that privacy.reveal may show in full."""

from wangge.privacy.revealable import Field, register

from . import queries
from .models import Building, Person, Place, RentalHouse

register(
    Person,
    visible=queries.people,
    area_path=lambda p: p.area_path,
    id_number=Field("ID number", "id_number", lambda p: p.id_number, lambda p: p.id_number_masked, "id_number_hash"),
    passport=Field("passport number", "passport", lambda p: p.passport, lambda p: p.passport_masked, "passport_hash"),
    phone=Field("phone", "phone", lambda p: p.phone, lambda p: p.phone_masked, "phone_hash"),
)
register(
    Building,
    visible=queries.buildings,
    area_path=lambda b: b.area_path,
    contact_phone=Field("owner / manager phone", "phone", lambda b: b.contact_phone, lambda b: b.contact_phone_masked),
)
register(
    RentalHouse,
    visible=queries.rentals,
    area_path=lambda r: r.area_path,
    landlord_phone=Field("landlord phone", "phone", lambda r: r.landlord_phone, lambda r: r.landlord_phone_masked),
)
register(
    Place,
    visible=queries.places,
    area_path=lambda p: p.area_path,
    contact_phone=Field("contact phone", "phone", lambda p: p.contact_phone, lambda p: p.contact_phone_masked),
)
