"""Admin forms of the catalog: they parse and check input; the writes stay in catalog.services."""

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm

from . import media
from .models import Category, Certificate, MetalRate, ProductImage

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif"]


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "name_en", "slug", "parent", "position", "is_active"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk is not None:
            # Walk up from the chosen parent: meeting this category means a loop
            # (the tree would have no root, and walking up it would never end).
            seen = set()
            node = parent
            while node is not None and node.pk not in seen:
                if node.pk == self.instance.pk:
                    raise ValidationError(
                        _("A category cannot sit inside itself or one of its own subcategories."),
                        code="category_loop")
                seen.add(node.pk)
                node = node.parent
        return parent


class ProductImageAdminForm(forms.ModelForm):
    # A plain FileField, not forms.ImageField: the latter opens the upload with
    # Pillow itself and answers every failure (a decompression bomb included)
    # with one vague message. validate_image_upload says which check failed.
    original = forms.FileField(
        label=_("original"),
        widget=AdminFileWidget(attrs={"accept": IMAGE_ACCEPT}),
        help_text=_("JPEG, PNG, WebP or GIF; at most 15 MB and 40 megapixels."),
    )

    class Meta:
        model = ProductImage
        fields = ["original", "alt", "position"]

    def clean_original(self):
        upload = self.cleaned_data["original"]
        # Only a new upload is checked; an unchanged row keeps its stored file.
        if isinstance(upload, UploadedFile):
            media.validate_image_upload(upload)
            # The stored name keeps the upload's extension, and the media server picks
            # the content type from it: a picture named .html would be served as a page.
            FileExtensionValidator(IMAGE_EXTENSIONS, message=_(
                "Name the photo .jpg, .jpeg, .png, .webp or .gif."))(upload)
        return upload


class MetalRateAdminForm(forms.ModelForm):
    """Entering a rate. The model form checks choices, the positive rate and the
    one-rate-per-moment constraint; the admin then calls ``metal_rate_create``."""

    class Meta:
        model = MetalRate
        fields = ["metal", "purity", "rate_per_gram", "valid_from"]
        help_texts = {
            "purity": _("Fineness in thousandths, written as on the variants: 999, 750, 950, 925."),
            "valid_from": _("Leave empty for now. A later time makes the rate start then."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "valid_from" in self.fields:
            self.fields["valid_from"].required = False

    def clean_purity(self):
        return self.cleaned_data["purity"].strip()


SCAN_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "webp"]


class CertificateAdminForm(forms.ModelForm):
    """A certificate's scan is served from our media: only a real PDF or photo is kept,
    under a name whose extension matches (an .html "scan" would be served as a page)."""

    class Meta:
        model = Certificate
        fields = ["variant", "lab", "number", "carat", "colour", "clarity", "cut", "issued_on",
                  "scan"]

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if not isinstance(scan, UploadedFile):
            return scan
        FileExtensionValidator(SCAN_EXTENSIONS, message=_(
            "A scan must be a PDF, JPEG, PNG or WebP file."))(scan)
        if scan.name.lower().endswith(".pdf"):
            if scan.size > media.MAX_UPLOAD_BYTES:
                raise ValidationError(
                    media.TOO_LARGE, code="scan_too_large",
                    params={"size": f"{scan.size / 1024 / 1024:.1f}",
                            "limit": media.MAX_UPLOAD_BYTES // 1024 // 1024})
            scan.seek(0)
            head = scan.read(5)
            scan.seek(0)
            if head != b"%PDF-":
                raise ValidationError(_("This file is not a PDF."), code="not_a_pdf")
        else:
            media.validate_image_upload(scan)
        return scan


class CatalogImportForm(ImportForm):
    """The import upload, capped: a spreadsheet is read whole into memory."""

    MAX_BYTES = 10 * 1024 * 1024

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(
                _("This file is %(size)s MB; an import can be at most %(limit)s MB. "
                  "Split it into several files."),
                code="import_too_large",
                params={"size": f"{upload.size / 1024 / 1024:.1f}",
                        "limit": self.MAX_BYTES // 1024 // 1024})
        return upload


def text_as_utf8(data: bytes) -> bytes:
    """CSV bytes as UTF-8. Excel on a Chinese Windows saves "CSV" in GB18030; anything
    that is neither is passed on unchanged (and refused by the import as unreadable)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data
