"""Product photos: the upload check and the renditions, on real Pillow images and files."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms

from catalog import media
from catalog.media import RENDITION_WIDTHS, image_renditions_make, validate_image_upload
from catalog.models import ProductImage

from .factories import ProductFactory

pytestmark = pytest.mark.django_db

ORIENTATION = 0x0112
RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def image_bytes(size=(600, 400), fmt="JPEG", *, mode="RGB", color=(200, 180, 40), exif=None,
                **save) -> bytes:
    image = Image.new(mode, size, color)
    buffer = io.BytesIO()
    if exif is not None:
        save["exif"] = exif
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def red_left_blue_right(width, height) -> Image.Image:
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def product_image(data: bytes, name="photo.jpg") -> ProductImage:
    return ProductImage.objects.create(product=ProductFactory(), original=ContentFile(data, name=name))


def opened(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as fp:
        image = Image.open(io.BytesIO(fp.read()))
        image.load()
    return image


def close(colour, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], expected, strict=True))


# --- Renditions ------------------------------------------------------------------------


def test_renditions_have_the_three_widths_in_webp_and_jpeg():
    image = product_image(image_bytes((3000, 1500)))
    renditions = image_renditions_make(image=image)

    assert set(renditions) == {"thumb", "card", "zoom"}
    for name, width in RENDITION_WIDTHS.items():
        entry = renditions[name]
        assert (entry["width"], entry["height"]) == (width, width // 2)
        jpeg, webp = opened(entry["jpeg"]), opened(entry["webp"])
        assert (jpeg.format, webp.format) == ("JPEG", "WEBP")
        assert jpeg.size == webp.size == (width, width // 2)
    image.refresh_from_db()
    assert image.renditions == renditions


def test_a_photo_with_an_exif_orientation_is_turned_upright():
    # A phone held upright stores landscape pixels plus "rotate 90° clockwise" (6):
    # the pixels' left edge is the picture's top.
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    red_left_blue_right(1000, 600).save(buffer, "JPEG", exif=exif, quality=95)
    image = product_image(buffer.getvalue())

    renditions = image_renditions_make(image=image)

    assert (renditions["thumb"]["width"], renditions["thumb"]["height"]) == (160, 267)
    assert (renditions["card"]["width"], renditions["card"]["height"]) == (480, 800)
    for entry in renditions.values():
        for fmt in ("jpeg", "webp"):
            picture = opened(entry[fmt])
            assert picture.width < picture.height  # width and height swapped
            # The red (left) half is now on top, the blue half below.
            assert close(picture.getpixel((picture.width // 2, picture.height // 4)), RED)
            assert close(picture.getpixel((picture.width // 2, picture.height * 3 // 4)), BLUE)


def test_renditions_carry_no_exif_and_no_colour_profile():
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0131] = "Camera app 1.0"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = product_image(image_bytes((800, 600), exif=exif.tobytes(), icc_profile=icc))
    assert "exif" in Image.open(image.original.path).info  # the original has it

    for entry in image_renditions_make(image=image).values():
        for fmt in ("jpeg", "webp"):
            picture = opened(entry[fmt])
            assert "exif" not in picture.info
            assert "icc_profile" not in picture.info
            assert not picture.getexif()


def test_a_small_original_is_never_upscaled():
    image = product_image(image_bytes((120, 90), "PNG"), name="small.png")
    renditions = image_renditions_make(image=image)
    for entry in renditions.values():
        assert (entry["width"], entry["height"]) == (120, 90)
        assert opened(entry["jpeg"]).size == (120, 90)


def test_a_medium_original_is_shrunk_for_small_sizes_and_kept_for_zoom():
    image = product_image(image_bytes((900, 600)))
    renditions = image_renditions_make(image=image)
    assert {name: entry["width"] for name, entry in renditions.items()} == {
        "thumb": 160, "card": 480, "zoom": 900}


def test_transparent_areas_become_white():
    image = product_image(image_bytes((200, 200), "PNG", mode="RGBA", color=(0, 0, 0, 0)),
                          name="cutout.png")
    picture = opened(image_renditions_make(image=image)["thumb"]["jpeg"])
    assert close(picture.getpixel((10, 10)), (255, 255, 255), tolerance=8)


def test_running_twice_replaces_the_files_under_the_same_names():
    image = product_image(image_bytes((700, 500)))
    first = image_renditions_make(image=image)
    second = image_renditions_make(image=image)
    assert first == second
    directory = f"{media.RENDITIONS_DIR}/{image.pk}"
    assert len(default_storage.listdir(directory)[1]) == 2 * len(RENDITION_WIDTHS)


def test_a_gif_and_a_webp_original_are_rendered_too():
    for data, name in ((image_bytes((300, 300), "GIF"), "a.gif"),
                       (image_bytes((300, 300), "WEBP"), "b.webp")):
        renditions = image_renditions_make(image=product_image(data, name=name))
        assert renditions["thumb"]["width"] == 160


# --- The upload check ------------------------------------------------------------------


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def refusal(file) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_image_upload(file)
    return caught.value.code


@pytest.mark.parametrize(("data", "name"), [
    (image_bytes((640, 480), "JPEG"), "a.jpg"),
    (image_bytes((640, 480), "PNG"), "a.png"),
    (image_bytes((640, 480), "WEBP"), "a.webp"),
    (image_bytes((640, 480), "GIF"), "a.gif"),
])
def test_photos_of_the_allowed_formats_pass_and_the_file_is_rewound(data, name):
    file = upload(data, name)
    file.read(10)
    validate_image_upload(file)
    assert file.tell() == 0
    assert file.read() == data


def test_a_text_file_is_not_an_image():
    assert refusal(upload(b"name,price\nring,1999\n", "list.jpg")) == "not_an_image"


def test_an_empty_file_is_not_an_image():
    assert refusal(upload(b"", "empty.png")) == "not_an_image"


def test_a_postscript_file_never_reaches_ghostscript():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n"
    assert refusal(upload(eps, "logo.eps", "application/postscript")) == "not_an_image"


def test_a_png_with_a_broken_checksum_is_refused():
    data = bytearray(image_bytes((64, 64), "PNG"))
    data[-20] ^= 0xFF  # inside the last IDAT chunk
    assert refusal(upload(bytes(data), "broken.png")) == "not_an_image"


def test_a_truncated_jpeg_is_refused():
    data = io.BytesIO()
    Image.effect_noise((800, 600), 60).convert("RGB").save(data, "JPEG")
    truncated = data.getvalue()[: len(data.getvalue()) // 2]
    assert refusal(upload(truncated, "cut.jpg")) == "not_an_image"


def test_a_file_over_15_mb_is_refused_before_it_is_read():
    too_big = upload(b"\xff\xd8\xff" + b"\x00" * (media.MAX_UPLOAD_BYTES - 2), "huge.jpg")
    assert too_big.size == media.MAX_UPLOAD_BYTES + 1
    with pytest.raises(ValidationError) as caught:
        validate_image_upload(too_big)
    assert caught.value.code == "image_too_large"
    assert "15" in str(caught.value.messages[0])


def test_a_decompression_bomb_is_refused_from_its_header():
    # 400 megapixels claimed in a few hundred bytes: past Pillow's own bomb limit.
    bomb = png_claiming(20_000, 20_000)
    assert len(bomb) < 1000
    assert refusal(upload(bomb, "bomb.png", "image/png")) == "image_too_many_pixels"


def test_an_image_over_40_megapixels_is_refused_from_its_header():
    # 64 megapixels: under Pillow's bomb limit, over the shop's.
    assert refusal(upload(png_claiming(8000, 8000), "big.png", "image/png")) == (
        "image_too_many_pixels")


def test_the_pixel_limit_is_read_when_checking(monkeypatch):
    monkeypatch.setattr(media, "MAX_PIXELS", 100 * 100)
    assert refusal(upload(image_bytes((101, 100), "PNG"), "a.png")) == "image_too_many_pixels"
    validate_image_upload(upload(image_bytes((100, 100), "PNG"), "b.png"))
