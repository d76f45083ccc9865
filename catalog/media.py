"""Product photos: the upload check, and the renditions the shop serves.

Shoppers never download an original: pages use the renditions made here (thumb,
card, zoom; WebP with a JPEG fallback), stripped of metadata so a phone photo's
GPS position or camera serial never leaves the back office.
"""

import io
import warnings
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .models import ProductImage

# Width of each rendition; the height follows the photo's proportions.
RENDITION_WIDTHS: dict[str, int] = {"thumb": 160, "card": 480, "zoom": 1200}
RENDITIONS_DIR = "products/r"
JPEG_QUALITY = 82
WEBP_QUALITY = 82

_SRGB = ImageCms.createProfile("sRGB")

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000

# Only plain raster formats: Pillow would hand EPS/PS to Ghostscript, which a
# shop upload must never reach. (A camera's multi-picture JPEG, MPO, opens as JPEG.)
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")

NOT_AN_IMAGE = _("This file is not an image we can use. Upload a JPEG, PNG, WebP or GIF photo.")
TOO_LARGE = _("This file is %(size)s MB; photos can be at most %(limit)s MB.")
PIXEL_BOMB = _("This image has far too many pixels; photos can be at most %(limit)s megapixels.")
TOO_MANY_PIXELS = _(
    "This image is too large (%(megapixels)s megapixels); photos can be at most "
    "%(limit)s megapixels."
)


def _open(fp: IO[bytes]) -> Image.Image:
    """Open ``fp`` lazily (header only), refusing foreign formats and pixel bombs.

    Raises ValidationError; Pillow's own bomb warning counts as an error too.
    """
    # Registers every plugin (once): a formats list naming a plugin that is not
    # loaded yet (WEBP) would otherwise raise KeyError.
    Image.init()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fp, formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(PIXEL_BOMB, code="image_too_many_pixels",
                              params={"limit": MAX_PIXELS // 1_000_000}) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ValidationError(
            TOO_MANY_PIXELS, code="image_too_many_pixels",
            params={"megapixels": round(width * height / 1_000_000), "limit": MAX_PIXELS // 1_000_000},
        )
    return image


def validate_image_upload(file: IO[bytes]) -> None:
    """Accept ``file`` only if it is a readable photo of sane size; else ValidationError.

    Checks, cheapest first: the byte size (at most 15 MB), the format (JPEG,
    PNG, WebP, GIF), the pixel count (at most 40 megapixels, before decoding,
    so a decompression bomb is refused without being unpacked), then Pillow's
    integrity check. Leaves the file positioned at its start.
    """
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            TOO_LARGE, code="image_too_large",
            params={"size": f"{size / 1024 / 1024:.1f}", "limit": MAX_UPLOAD_BYTES // 1024 // 1024},
        )
    try:
        file.seek(0)
        image = _open(file)
        # No image.close(): Pillow would close the caller's file, which the form
        # still has to save.
        try:
            image.verify()
            # verify() does not decode JPEG data, so a truncated JPEG would pass it and
            # fail later in the renditions task: decode once (the pixel cap keeps it cheap).
            file.seek(0)
            _open(file).load()
        except ValidationError:
            raise
        except Exception:
            # Pillow raises whatever the plugin meets: truncated data, bad CRC...
            raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from None
    finally:
        file.seek(0)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels tagged with another colour profile (a phone's Display P3) to sRGB.

    The renditions carry no profile, and browsers read untagged pixels as sRGB,
    so dropping the profile without converting would dull or shift the colours.
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are


def _flatten(image: Image.Image) -> Image.Image:
    """Upright sRGB pixels in RGB, with no metadata attached."""
    image = _to_srgb(ImageOps.exif_transpose(image))
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas become white (a product shot's usual ground), not black.
        rgba = image.convert("RGBA")
        ground = Image.new("RGB", rgba.size, (255, 255, 255))
        ground.paste(rgba, mask=rgba.getchannel("A"))
        image = ground
    else:
        image = image.convert("RGB")
    image.info = {}
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def _store(path: str, data: bytes) -> str:
    # The storage would rename a clash to name_XXXX; deleting first keeps the
    # names stable, so re-running replaces the files instead of piling up copies.
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(data))


def image_renditions_make(*, image: ProductImage) -> dict:
    """Make the thumb, card and zoom renditions of ``image`` and record them.

    Each rendition exists as WebP and JPEG under ``products/r/<pk>/``, is never
    wider than the original (no upscaling), and carries no EXIF, XMP or ICC
    data (the pixels are turned upright first). Idempotent: a re-run writes the
    same names. Saves ``image.renditions`` only (update_fields) and returns it.
    Raises ValidationError if the original is not a usable image.
    """
    with image.original.open("rb") as fp:
        source = _open(fp)
        source.load()
        source = _flatten(source)

    renditions: dict[str, dict] = {}
    # Largest first, each made from the one before: resampling a smaller source
    # costs less, and a LANCZOS step from a larger intermediate loses no visible detail.
    previous = source
    for name, wanted_width in sorted(RENDITION_WIDTHS.items(), key=lambda kv: -kv[1]):
        width = min(wanted_width, source.width)
        height = max(1, round(source.height * width / source.width))
        resized = previous if width == previous.width else previous.resize(
            (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        resized.info = {}
        previous = resized
        entry: dict = {"width": width, "height": height}
        for ext, fmt in (("webp", "webp"), ("jpg", "jpeg")):
            entry[fmt] = _store(f"{RENDITIONS_DIR}/{image.pk}/{name}.{ext}", _encode(resized, fmt))
        renditions[name] = entry

    image.renditions = {name: renditions[name] for name in RENDITION_WIDTHS}
    image.save(update_fields=["renditions"])
    return image.renditions
