"""Case photos: size and type limits, a thumbnail, a name nobody can guess."""

import contextlib
import io
import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from wangge.accounts.resolve import resolve_by, resolve_many

from .models import CasePhoto

logger = logging.getLogger(__name__)
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "HEIF"}
THUMBNAIL_SIZE = (320, 320)
MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding (Pillow warns past 89 million)


def store_photo(upload, *, user=None, field="photo") -> CasePhoto:
    """Check an uploaded file, store it re-encoded as JPEG with a thumbnail; not yet tied to a case."""
    if upload.size > settings.CASE_PHOTO_MAX_BYTES:
        limit = settings.CASE_PHOTO_MAX_BYTES // 2**20
        raise ValidationError({field: _("The photo is larger than %(mb)s MB.") % {"mb": limit}})
    data = upload.read()
    too_many_pixels = ValidationError({field: _("The photo has too many pixels.")})
    try:
        # Image.open reads the header only; Pillow refuses sizes past twice MAX_IMAGE_PIXELS there
        # (DecompressionBombError), and MAX_PIXELS (below Pillow's own limit) refuses the rest
        # before any pixel is decoded: a 76 KB PNG can claim 20000×20000 pixels (1.6 GB decoded).
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise too_many_pixels
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if image.format not in ALLOWED_FORMATS:
            raise UnidentifiedImageError(image.format)
        image = image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError({field: _("The file is not an image (JPEG, PNG, WebP or GIF).")}) from exc
    width, height = image.size
    full, thumb = io.BytesIO(), io.BytesIO()
    image.save(full, "JPEG", quality=85)
    image.thumbnail(THUMBNAIL_SIZE)
    image.save(thumb, "JPEG", quality=75)
    photo = CasePhoto(
        token=secrets.token_hex(16),
        size=full.tell(),
        width=width,
        height=height,
        uploaded_by=user if user and user.pk else None,
    )
    try:
        photo.image.save("photo.jpg", ContentFile(full.getvalue()), save=False)
        photo.thumbnail.save("thumb.jpg", ContentFile(thumb.getvalue()), save=False)
        photo.save()
    except BaseException:
        # A full or read-only media root (OSError) or a failed INSERT: no file without its row.
        for stored in (photo.image, photo.thumbnail):
            if stored.name:
                with contextlib.suppress(OSError):
                    stored.storage.delete(stored.name)
        raise
    return photo


def attachable_at_intake(user):
    """Photos a new report may bring: the filer's own uploads not yet on a case. Anonymous uploads
    belong to nobody, so an anonymous report names them by their unguessable token, never by id."""
    unattached = CasePhoto.objects.filter(case__isnull=True)
    if user is not None and user.is_authenticated:
        return unattached.filter(uploaded_by=user)
    return unattached.filter(uploaded_by__isnull=True)


def attachable_to(case, user):
    """Photos an action on this case may bring: the actor's own unattached uploads, or photos already
    on this case and not yet tied to an event. Never a photo of another case (its evidence)."""
    if user is None or not user.is_authenticated:
        return CasePhoto.objects.none()
    return CasePhoto.objects.filter(Q(case__isnull=True, uploaded_by=user) | Q(case=case, event__isnull=True))


def resolve_for_report(user, photo_ids, photo_tokens) -> list[CasePhoto]:
    photos = attachable_at_intake(user)
    if photo_ids and not (user is not None and user.is_authenticated):
        raise ValidationError(
            {"photo_ids": _("Without an account, name the photos by the token their upload returned.")}
        )
    found = resolve_many(photos, photo_ids, "photo_ids", message=_("Unknown photo."))
    found += resolve_by(photos, photo_tokens, "photo_tokens", attr="token", message=_("Unknown photo."))
    return list({p.pk: p for p in found}.values())


def resolve_for_action(case, user, photo_ids) -> list[CasePhoto]:
    if not photo_ids:  # most actions bring none: no queryset to build
        return []
    return resolve_many(attachable_to(case, user), photo_ids, "photo_ids", message=_("Unknown photo."))


def store_photo_or_none(request, upload, *, user=None):
    """store_photo() for the forms, where a report must not be lost with its photo: when the file
    store fails (full, read-only: OSError), None and a warning for the user; the caller goes on
    without the photo. Refusals of the file itself (ValidationError) still go to the form."""
    try:
        return store_photo(upload, user=user)
    except OSError:
        logger.exception("photo store failed")
        messages.warning(
            request, _("The photo could not be stored (the file store is unavailable); the rest was saved.")
        )  # noqa: E501
        return None


def delete_unattached(older_than) -> int:
    """Delete photos no report or action took up, uploaded before `older_than` (rows, then their
    files once the delete committed): an upload endpoint must not be free file storage. The number deleted."""
    deleted = 0
    while True:
        with transaction.atomic():
            # Locked, then deleted in the same transaction: a report attaching one meanwhile either
            # got it first (it has a case now: not deleted) or finds it gone ("Unknown photo").
            rows = list(
                CasePhoto.objects.select_for_update()
                .filter(case__isnull=True, created_at__lt=older_than)
                .order_by("pk")
                .values_list("pk", "image", "thumbnail")[:500]
            )
            if not rows:
                return deleted
            CasePhoto.objects.filter(pk__in=[pk for pk, *_files in rows], case__isnull=True).delete()
        storage = CasePhoto._meta.get_field("image").storage
        for _pk, *names in rows:
            for name in names:
                if name:
                    with contextlib.suppress(OSError):
                        storage.delete(name)
        deleted += len(rows)
