"""Case photos: size and type limits, a thumbnail, a name nobody can guess."""

import io
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .models import CasePhoto

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
    photo.image.save("photo.jpg", ContentFile(full.getvalue()), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(thumb.getvalue()), save=False)
    photo.save()
    return photo
