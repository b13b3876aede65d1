"""Every change to the registers: checked, written, recorded (wangge.history) in one transaction.

Inputs are plain dicts of field values (from a form or an API schema); bad input raises
ValidationError naming the field, a user without the right raises PermissionDenied, a stale
version raises StaleVersion (HTTP 409). Personal data is normalised, validated, encrypted, hashed
and masked here and nowhere else; change records hold only the masked form. Every id a write names
is looked up through the writer's jurisdiction (wangge.accounts.resolve), never city-wide.

One module per sub-domain; this package exports the public names (`from wangge.registry import actions`).
"""

from .addresses import (
    ADDRESS_PARTS,
    IMPORT_BATCH_ID,
    IMPORT_CACHE_KB,
    AddressBulk,
    import_addresses,
    imported_in,
    save_address,
)
from .buildings import save_building, save_room
from .common import EDITOR_ROLES, QR_ALPHABET, DuplicatePerson, StaleVersion, mask_passport, may_edit
from .people import move_in, move_out, register_person, update_person
from .places import save_place
from .rentals import declare_tenant, landlord_rooms, record_move_out, review_declaration, save_rental

__all__ = [
    "ADDRESS_PARTS", "EDITOR_ROLES", "IMPORT_BATCH_ID", "IMPORT_CACHE_KB", "QR_ALPHABET",
    "AddressBulk", "DuplicatePerson", "StaleVersion",
    "declare_tenant", "import_addresses", "imported_in", "landlord_rooms", "mask_passport", "may_edit",
    "move_in", "move_out", "record_move_out", "register_person", "review_declaration", "save_address",
    "save_building", "save_place",
    "save_rental",
    "save_room", "update_person",
]  # fmt: skip
