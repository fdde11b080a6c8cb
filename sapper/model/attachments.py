"""What a file attached to a record may be: a photo (JPEG, PNG, WebP, GIF) or a PDF, told by its bytes.

A file's name and the type a client declares are only claims; the bytes decide. Images are
opened and verified by Pillow, a PDF is known by its header (ISO 32000-1, 7.5.2: a file begins
with ``%PDF-``). Anything else is refused with the record and the problem named, so a script
renamed ``photo.jpg`` never reaches a browser from the register.
"""

from __future__ import annotations

import io
import re
import warnings

from PIL import Image, ImageOps

from sapper.i18n import N_
from sapper.model.errors import InvalidRecord, Problem

# Kinds of record that carry attachments (field photos of items, daily reports and hazards).
ATTACHABLE = ("hazard", "item", "report", "qc_sample")  # a QC inspection keeps its photo as evidence
# Assumption: a phone photo is 2-8 MB; 10 MB leaves room for a scanned PDF page or two.
MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
PDF = "application/pdf"
THUMBNAIL_PX = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\\"]")


def clean_name(name: str, fallback: str = "attachment") -> str:
    """The file name without folders, control characters or quotes, at most 120 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(".")
    return base[-120:] or fallback


def content_type(data: bytes, where: str, name: str, limit: int = MAX_BYTES) -> str:
    """The content type the bytes show; InvalidRecord naming ``where`` and the file if not allowed."""
    if not data:
        raise InvalidRecord(where, Problem(N_("{name} is empty"), name=name))
    if len(data) > limit:
        too_big = N_("{name} is {size:,} bytes; an attachment may be at most {limit:,} bytes")
        raise InvalidRecord(where, Problem(too_big, name=name, size=len(data), limit=limit))
    if data.startswith(b"%PDF-"):
        return PDF
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found = image.format or ""
                image.verify()
    except Exception:  # Pillow raises many types for bytes that are not an image it reads
        found = ""
    if found not in IMAGE_TYPES:
        allowed = ", ".join(IMAGE_TYPES)
        raise InvalidRecord(
            where,
            Problem(
                N_("{name} is not a photo ({allowed}) or a PDF by its content; only those may be attached"),
                name=name,
                allowed=allowed,
            ),
        )
    return IMAGE_TYPES[found]


def thumbnail(data: bytes, size: int = THUMBNAIL_PX) -> bytes:
    """A small JPEG of an image, for lists of photos (the original stays as it was sent)."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)  # phones store photos sideways and say so in EXIF
        upright.thumbnail((size, size))
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()
