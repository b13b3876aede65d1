"""Which fields of which models hold personal data that can be shown in full, and how.

An app registers its models once (in its AppConfig.ready): the fields, how to read each clear value,
which objects a user may see at all, and the area path that decides jurisdiction.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models

from wangge.core import pii

MASKS = {"phone": pii.mask_phone, "id_number": pii.mask_id_number, "passport": pii.mask_id_number}  # fallbacks


@dataclass(frozen=True)
class Field:
    label: str
    kind: str  # a key of MASKS
    clear: Callable[[models.Model], str]  # the value in clear (decrypts)
    masked: Callable[[models.Model], str] | None = None  # cheaper than decrypting, when stored
    hash_field: str = ""  # the keyed-hash column an exact search filters on (wangge.privacy.search)


@dataclass(frozen=True)
class Spec:
    fields: dict[str, Field]
    visible: Callable  # visible(user) → queryset of the objects the user may see
    area_path: Callable[[models.Model], str]


_SPECS: dict[type, Spec] = {}


def register(model: type[models.Model], *, visible, area_path, **fields: Field) -> None:
    _SPECS[model] = Spec(fields=fields, visible=visible, area_path=area_path)


def spec_for(model_or_obj) -> Spec | None:
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    return _SPECS.get(model._meta.concrete_model)


def type_label(obj) -> str:
    """ "registry.person": how a page or API client names the kind of object."""
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def model_for(label: str) -> type[models.Model] | None:
    app_label, _sep, model_name = (label or "").partition(".")
    try:
        model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    except ContentType.DoesNotExist:
        return None
    return model if model in _SPECS else None


def masked_value(obj, field: str) -> str:
    spec = spec_for(obj)
    f = spec.fields[field]
    if f.masked is not None:
        return f.masked(obj)
    return MASKS[f.kind](f.clear(obj))
