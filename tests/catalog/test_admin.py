"""The merchandiser's admin: products, images, rates, price history, import and export."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext
from PIL import Image

from catalog import media
from catalog.models import (
    Category,
    Certificate,
    MetalRate,
    Product,
    ProductImage,
    Variant,
    VariantPriceChange,
)
from catalog.resources import PRODUCT_FIELDS, VARIANT_COLUMNS
from catalog.services import prices_refresh, products_changed
from catalog.tasks import image_renditions_task
from tests.members.factories import UserFactory

from .factories import ByWeightVariantFactory, CategoryFactory, ProductFactory, VariantFactory
from .test_media import png_claiming

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Both belong in o2o/settings/base.py; set here so the tests do not depend on it.
    settings.IMPORT_EXPORT_USE_TRANSACTIONS = True
    if "import_export" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "import_export"]


@pytest.fixture
def enqueued(monkeypatch):
    """Celery's delay() of the image task, recorded instead of sent to the broker."""
    calls = []
    monkeypatch.setattr(image_renditions_task, "delay", lambda **kwargs: calls.append(kwargs))
    return calls


def message_texts(response) -> list[str]:
    """The messages a response added (read once: the next request will not see them)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def in_shop_language(singular: str, plural: str, count: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return ngettext(singular, plural, count) % {"count": count}


def png(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 150, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# --- Product list and page ------------------------------------------------------------


def test_the_product_list_renders_in_a_fixed_number_of_queries(
        admin_client_, django_assert_max_num_queries):
    for _ in range(3):
        VariantFactory()
    url = reverse("admin:catalog_product_changelist")
    with django_assert_max_num_queries(10) as few:
        assert admin_client_.get(url).status_code == 200
    for _ in range(20):
        VariantFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client_.get(url)
    assert response.status_code == 200
    assert Product.objects.first().name in response.text


def test_the_product_list_searches_names_and_skus(admin_client_):
    ring = VariantFactory(sku="RING-0042").product
    other = VariantFactory().product
    url = reverse("admin:catalog_product_changelist")
    for query in ("RING-0042", ring.name, ring.name_en.upper()):
        found = admin_client_.get(url, {"q": query}).context["cl"].result_list
        assert list(found) == [ring], query
    assert other not in admin_client_.get(url, {"q": "ring-0042"}).context["cl"].result_list


@pytest.mark.parametrize("params, statuses", [
    # Lookups no filter of the screen offers are refused outright (o2o.admin_kit).
    ({"price_from__gt": "abc"}, (400,)), ({"created_at__gte": "yesterday"}, (400,)),
    ({"q": "'; drop table --%"}, (200, 302)), ({"o": "99"}, (200, 302)),
    ({"category__id__exact": "x"}, (200, 302)), ({"created_at__year": "x" * 50}, (200, 302)),
])
def test_the_product_list_never_fails_on_bad_parameters(admin_client_, params, statuses):
    response = admin_client_.get(reverse("admin:catalog_product_changelist"), params)
    assert response.status_code in statuses


def test_the_product_page_shows_variants_images_and_certificates(
        admin_client_, django_assert_max_num_queries):
    variant = VariantFactory(sku="DIA-001")
    product = variant.product
    Certificate.objects.create(variant=variant, lab="GIA", number="2141438171")
    rendered = ProductImage.objects.create(
        product=product, original=ContentFile(png(), name="front.png"), alt='Front "side"<b>',
        renditions={"thumb": {"jpeg": "products/r/1/thumb.jpg", "webp": "products/r/1/thumb.webp",
                              "width": 160, "height": 120}})
    fresh = ProductImage.objects.create(product=product, original=ContentFile(png(), name="back.png"),
                                        position=1)

    with django_assert_max_num_queries(14):
        response = admin_client_.get(reverse("admin:catalog_product_change", args=[product.pk]))

    assert response.status_code == 200
    page = response.text
    assert "DIA-001" in page
    assert "/media/products/r/1/thumb.jpg" in page  # the thumb when it exists
    assert fresh.original.url in page  # else the original
    assert "Front &quot;side&quot;&lt;b&gt;" in page  # alt text escaped
    assert 'side"<b>' not in page
    assert "2141438171" in page
    assert reverse("admin:catalog_certificate_change", args=[variant.certificates.get().pk]) in page
    assert rendered.pk


# --- Saving a product ---------------------------------------------------------------------


def product_form(product: Product, variants=(), images=(), new_images=(), **changes) -> dict:
    """The POST data of the product page, with the variant and image inlines."""
    data = {
        "name": product.name, "name_en": product.name_en, "slug": product.slug,
        "category": product.category_id, "is_active": "on" if product.is_active else "",
        "material": product.material, "gemstone": product.gemstone, "style": product.style,
        "audience": product.audience, "tags": ",".join(product.tags),
        "description": product.description, "description_en": product.description_en,
        "variants-TOTAL_FORMS": len(variants), "variants-INITIAL_FORMS": len(variants),
        "variants-MIN_NUM_FORMS": 0, "variants-MAX_NUM_FORMS": 1000,
        "images-TOTAL_FORMS": len(images) + len(new_images), "images-INITIAL_FORMS": len(images),
        "images-MIN_NUM_FORMS": 0, "images-MAX_NUM_FORMS": 1000,
    }
    for i, variant in enumerate(variants):
        for field in ("sku", "size", "metal", "purity", "weight_g", "pricing_mode", "list_price",
                      "labour_fee", "stone_carat", "barcode", "position"):
            value = getattr(variant, field)
            data[f"variants-{i}-{field}"] = "" if value is None else value
        data[f"variants-{i}-is_active"] = "on" if variant.is_active else ""
        data[f"variants-{i}-id"] = variant.pk
        data[f"variants-{i}-product"] = product.pk
    for i, image in enumerate(images):
        data.update({f"images-{i}-id": image.pk, f"images-{i}-product": product.pk,
                     f"images-{i}-alt": image.alt, f"images-{i}-position": image.position})
    for j, file in enumerate(new_images, start=len(images)):
        data.update({f"images-{j}-original": file, f"images-{j}-alt": "",
                     f"images-{j}-position": j, f"images-{j}-product": product.pk})
    data.update(changes)
    return data


def test_saving_a_product_refreshes_its_search_text_and_price_from(admin_client_):
    variant = VariantFactory(list_price=Decimal("1999.00"))
    product = variant.product
    products_changed(product_ids=[product.pk])
    product.refresh_from_db()
    assert product.price_from == Decimal("1999.00")

    variant.list_price = Decimal("2500.00")
    response = admin_client_.post(
        reverse("admin:catalog_product_change", args=[product.pk]),
        product_form(product, [variant], name="古法金手镯", name_en="Heritage gold bangle",
                     tags="古法,婚嫁"))

    assert response.status_code == 302, response.context["errors"]
    product.refresh_from_db()
    assert product.name == "古法金手镯"
    assert product.price_from == Decimal("2500.00")
    assert "heritage gold bangle" in product.search_document
    assert "古法金手镯" in product.search_document
    assert variant.sku.lower() in product.search_document
    assert VariantPriceChange.objects.filter(variant=variant, price=Decimal("2500.00"),
                                             reason="product_edit").exists()


def test_adding_a_product_with_a_variant_and_a_photo(
        admin_client_, enqueued, django_capture_on_commit_callbacks):
    category = CategoryFactory()
    data = {
        "name": "珍珠耳钉", "name_en": "Pearl studs", "slug": "pearl-studs",
        "category": category.pk, "is_active": "on", "material": "pearl", "gemstone": "pearl",
        "style": "", "audience": "women", "tags": "", "description": "", "description_en": "",
        "variants-TOTAL_FORMS": 1, "variants-INITIAL_FORMS": 0,
        "variants-MIN_NUM_FORMS": 0, "variants-MAX_NUM_FORMS": 1000,
        "variants-0-sku": "PE-001", "variants-0-pricing_mode": "fixed",
        "variants-0-list_price": "899", "variants-0-labour_fee": "0", "variants-0-position": 0,
        "variants-0-is_active": "on",
        "images-TOTAL_FORMS": 1, "images-INITIAL_FORMS": 0,
        "images-MIN_NUM_FORMS": 0, "images-MAX_NUM_FORMS": 1000,
        "images-0-original": SimpleUploadedFile("studs.png", png()), "images-0-alt": "耳钉",
        "images-0-position": 0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("admin:catalog_product_add"), data)

    assert response.status_code == 302, response.context["errors"]
    product = Product.objects.get(slug="pearl-studs")
    assert product.price_from == Decimal("899.00")
    assert "pe-001" in product.search_document and "pearl studs" in product.search_document
    assert enqueued == [{"image_id": product.images.get().pk}]


def test_deactivating_the_cheapest_variant_raises_price_from(admin_client_):
    cheap = VariantFactory(list_price=Decimal("100.00"))
    dear = VariantFactory(product=cheap.product, list_price=Decimal("500.00"))
    product = cheap.product
    products_changed(product_ids=[product.pk])
    cheap.is_active = False
    response = admin_client_.post(reverse("admin:catalog_product_change", args=[product.pk]),
                                  product_form(product, [cheap, dear]))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price_from == Decimal("500.00")


def test_renaming_a_category_refreshes_the_search_text_below_it(admin_client_):
    rings = CategoryFactory()
    bridal = Category.objects.create(name="婚戒", name_en="Wedding rings", slug="wedding",
                                     parent=rings)
    product = ProductFactory(category=bridal)
    products_changed(product_ids=[product.pk])
    response = admin_client_.post(reverse("admin:catalog_category_change", args=[rings.pk]), {
        "name": "指环", "name_en": "Finger rings", "slug": "rings", "parent": "",
        "position": 0, "is_active": "on"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert "指环" in product.search_document and "finger rings" in product.search_document


def test_a_category_cannot_be_moved_inside_its_own_subtree(admin_client_):
    rings = CategoryFactory()
    bridal = Category.objects.create(name="婚戒", name_en="Wedding", slug="wedding", parent=rings)
    solitaires = Category.objects.create(name="单钻", name_en="Solitaires", slug="solitaires",
                                         parent=bridal)
    for parent in (rings, solitaires):
        response = admin_client_.post(
            reverse("admin:catalog_category_change", args=[rings.pk]),
            {"name": "戒指", "name_en": "Rings", "slug": "rings", "parent": parent.pk,
             "position": 0, "is_active": "on"})
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors.as_data()
        assert "parent" in errors
    rings.refresh_from_db()
    assert rings.parent is None


def test_a_variant_the_database_would_refuse_is_a_form_error(admin_client_):
    variant = VariantFactory()
    product = variant.product
    variant.list_price = None  # fixed price without a list price: the CHECK constraint
    response = admin_client_.post(reverse("admin:catalog_product_change", args=[product.pk]),
                                  product_form(product, [variant]))
    assert response.status_code == 200
    formset = next(f.formset for f in response.context["inline_admin_formsets"]
                   if f.formset.prefix == "variants")
    assert formset.forms[0].non_field_errors()
    variant.refresh_from_db()
    assert variant.list_price == Decimal("1999.00")


# --- Bulk activation ------------------------------------------------------------------------


def test_bulk_deactivate_and_activate_say_how_many_changed(admin_client_):
    products = [ProductFactory() for _ in range(3)]
    already_off = ProductFactory(is_active=False)
    url = reverse("admin:catalog_product_changelist")
    ids = [p.pk for p in [*products, already_off]]

    response = admin_client_.post(url, {"action": "products_deactivate", "_selected_action": ids},
                                  follow=True)
    assert [str(m) for m in response.context["messages"]] == [in_shop_language(
        "%(count)d product deactivated.", "%(count)d products deactivated.", 3)]
    assert not Product.objects.filter(is_active=True).exists()

    response = admin_client_.post(url, {"action": "products_activate",
                                        "_selected_action": [products[0].pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [in_shop_language(
        "%(count)d product activated.", "%(count)d products activated.", 1)]
    assert list(Product.objects.filter(is_active=True)) == [products[0]]


# --- Images -------------------------------------------------------------------------------------


def post_image(client, product, file):
    return client.post(reverse("admin:catalog_product_change", args=[product.pk]),
                       product_form(product, new_images=[file]))


def image_form_error_codes(response) -> list[str]:
    formset = next(f.formset for f in response.context["inline_admin_formsets"]
                   if f.formset.prefix == "images")
    return [error.code for form in formset.forms
            for error in form.errors.as_data().get("original", [])]


def test_a_new_image_is_saved_and_its_renditions_are_queued_after_commit(
        admin_client_, enqueued, django_capture_on_commit_callbacks):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_image(admin_client_, product,
                              SimpleUploadedFile("ring.png", png(), content_type="image/png"))
        assert enqueued == []  # nothing before the commit
    assert response.status_code == 302
    image = product.images.get()
    assert enqueued == [{"image_id": image.pk}]


def test_an_unchanged_image_is_not_rendered_again(
        admin_client_, enqueued, django_capture_on_commit_callbacks):
    product = ProductFactory()
    image = ProductImage.objects.create(product=product, original=ContentFile(png(), name="a.png"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("admin:catalog_product_change", args=[product.pk]),
            product_form(product, images=[image], **{"images-0-alt": "正面"}))
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.alt == "正面"
    assert enqueued == []


@pytest.mark.parametrize(("data", "name", "code"), [
    (b"SKU,price\nR-1,1999\n", "prices.png", "not_an_image"),
    (png_claiming(20_000, 20_000), "bomb.png", "image_too_many_pixels"),  # decompression bomb
    (png_claiming(8_000, 8_000), "big.png", "image_too_many_pixels"),
    (png(), "ring.html", "invalid_extension"),  # a real picture that would be served as a page
])
def test_the_image_inline_refuses_bad_uploads_with_a_form_error(
        admin_client_, enqueued, data, name, code):
    product = ProductFactory()
    response = post_image(admin_client_, product, SimpleUploadedFile(name, data))
    assert response.status_code == 200
    assert image_form_error_codes(response) == [code]
    assert not product.images.exists()
    assert enqueued == []


def test_the_image_inline_refuses_a_file_over_15_mb(admin_client_, enqueued):
    product = ProductFactory()
    huge = png() + b"\x00" * (media.MAX_UPLOAD_BYTES + 1)
    response = post_image(admin_client_, product, SimpleUploadedFile("huge.png", huge))
    assert response.status_code == 200
    assert image_form_error_codes(response) == ["image_too_large"]
    assert not product.images.exists()


# --- Metal rates and price history -------------------------------------------------------------


def rate_form(**changes) -> dict:
    return {"metal": "gold", "purity": "999", "rate_per_gram": "812.50",
            "valid_from_0": "", "valid_from_1": "", **changes}


def test_a_rate_added_in_the_admin_goes_through_the_service(
        admin_client_, superuser, monkeypatch, django_capture_on_commit_callbacks):
    from catalog.tasks import prices_refresh_task

    monkeypatch.setattr(prices_refresh_task, "delay",
                        lambda **kwargs: prices_refresh(**kwargs))  # run it here, now
    variant = ByWeightVariantFactory(weight_g=Decimal("2.000"), labour_fee=Decimal("100.00"))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("admin:catalog_metalrate_add"), rate_form())

    assert response.status_code == 302
    rate = MetalRate.objects.get()
    assert (rate.metal, rate.purity, rate.rate_per_gram) == ("gold", "999", Decimal("812.50"))
    assert rate.created_by == superuser
    assert abs(rate.valid_from - timezone.now()) < timedelta(minutes=1)
    variant.refresh_from_db()
    assert variant.current_price == Decimal("1725.00")  # 2 x 812.50 + 100
    assert variant.price_changes.get().reason == "metal_rate"


def test_a_rate_is_read_only_once_entered(admin_client_):
    rate = MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("780.00"),
                                    valid_from=timezone.now())
    url = reverse("admin:catalog_metalrate_change", args=[rate.pk])

    response = admin_client_.get(url)
    assert response.status_code == 200
    assert "780.00" in response.text
    assert 'name="_save"' not in response.text
    assert admin_client_.post(url, rate_form(rate_per_gram="1.00")).status_code == 403
    delete = reverse("admin:catalog_metalrate_delete", args=[rate.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    rate.refresh_from_db()
    assert rate.rate_per_gram == Decimal("780.00")


@pytest.mark.parametrize("changes", [
    {"rate_per_gram": "0"}, {"rate_per_gram": "abc"}, {"metal": "copper"}, {"purity": ""},
    {"valid_from_0": "2026-01-01", "valid_from_1": ""},
])
def test_a_bad_rate_is_a_form_error(admin_client_, changes):
    response = admin_client_.post(reverse("admin:catalog_metalrate_add"), rate_form(**changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not MetalRate.objects.exists()


def test_a_second_rate_for_the_same_moment_is_a_form_error(admin_client_):
    start = timezone.localtime(timezone.now()).replace(second=0, microsecond=0)
    MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("780.00"),
                             valid_from=start)
    response = admin_client_.post(reverse("admin:catalog_metalrate_add"), rate_form(
        valid_from_0=start.strftime("%Y-%m-%d"), valid_from_1=start.strftime("%H:%M:%S")))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert MetalRate.objects.count() == 1


def test_a_rate_refused_by_the_service_after_the_form_is_a_message(admin_client_, monkeypatch):
    # The race the form cannot see: the same rate entered by someone else meanwhile.
    from catalog import services
    from o2o.errors import ApplicationError

    def refuse(**kwargs):
        MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("1"),
                                 valid_from=timezone.now())
        raise ApplicationError("A rate for this metal and purity already starts then.",
                               code="duplicate_rate")

    monkeypatch.setattr(services, "metal_rate_create", refuse)
    url = reverse("admin:catalog_metalrate_add")
    response = admin_client_.post(url, rate_form())
    assert response.status_code == 302 and response.url == url
    assert message_texts(response) == ["A rate for this metal and purity already starts then."]
    assert not MetalRate.objects.exists()  # the whole request was rolled back


def test_the_rate_list_marks_the_rates_in_force(admin_client_):
    now = timezone.now()
    old = MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("700"),
                                   valid_from=now - timedelta(days=1))
    current = MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("780"),
                                       valid_from=now - timedelta(hours=1))
    later = MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("800"),
                                     valid_from=now + timedelta(hours=1))
    response = admin_client_.get(reverse("admin:catalog_metalrate_changelist"))
    model_admin = response.context["cl"].model_admin
    rows = {rate.pk: model_admin.in_force(rate) for rate in response.context["cl"].result_list}
    assert rows == {old.pk: False, current.pk: True, later.pk: False}


def test_price_history_is_read_only_and_filtered_by_variant(admin_client_):
    variant, other = VariantFactory(), VariantFactory()
    for price in ("1999.00", "2100.00"):
        VariantPriceChange.objects.create(variant=variant, price=Decimal(price),
                                          at=timezone.now(), reason="product_edit")
    VariantPriceChange.objects.create(variant=other, price=Decimal("1.00"), at=timezone.now(),
                                      reason="product_edit")
    url = reverse("admin:catalog_variantpricechange_changelist")

    response = admin_client_.get(url, {"variant__id__exact": variant.pk})
    assert response.status_code == 200
    assert {c.variant_id for c in response.context["cl"].result_list} == {variant.pk}
    assert admin_client_.get(reverse("admin:catalog_variantpricechange_add")).status_code == 403
    change = variant.price_changes.first()
    page = admin_client_.get(reverse("admin:catalog_variantpricechange_change", args=[change.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text


def test_the_variant_page_shows_the_latest_price_changes_and_takes_certificates(admin_client_):
    variant = VariantFactory()
    start = timezone.now() - timedelta(days=30)
    for day in range(15):
        VariantPriceChange.objects.create(variant=variant, price=Decimal(1000 + day),
                                          at=start + timedelta(days=day), reason="metal_rate")
    url = reverse("admin:catalog_variant_change", args=[variant.pk])
    response = admin_client_.get(url)
    assert response.status_code == 200
    shown = next(f.formset for f in response.context["inline_admin_formsets"]
                 if f.formset.model is VariantPriceChange)
    prices = [form.instance.price for form in shown.forms]
    assert prices == [Decimal(1000 + day) for day in range(14, 4, -1)]  # the 10 latest
    assert f"?variant__id__exact={variant.pk}" in response.text

    data = {
        "product": variant.product_id, "sku": variant.sku, "size": "", "metal": "",
        "purity": "", "weight_g": "", "stone_carat": "", "stone_count": 0,
        "pricing_mode": "fixed", "list_price": "1999.00", "labour_fee": "0", "position": 0,
        "is_active": "on", "barcode": "",
        "certificates-TOTAL_FORMS": 1, "certificates-INITIAL_FORMS": 0,
        "certificates-MIN_NUM_FORMS": 0, "certificates-MAX_NUM_FORMS": 1000,
        "certificates-0-lab": "GIA", "certificates-0-number": "2141438171",
        "certificates-0-carat": "0.50", "certificates-0-colour": "D",
        "certificates-0-clarity": "VS1", "certificates-0-cut": "EX",
        "certificates-0-issued_on": "", "certificates-0-variant": variant.pk,
        "price_changes-TOTAL_FORMS": 10, "price_changes-INITIAL_FORMS": 10,
        "price_changes-MIN_NUM_FORMS": 0, "price_changes-MAX_NUM_FORMS": 0,
    }
    response = admin_client_.post(url, data)
    assert response.status_code == 302
    assert variant.certificates.get().number == "2141438171"
    # The inline wrote nothing; the save priced the variant (it had no price yet).
    assert VariantPriceChange.objects.filter(variant=variant).count() == 16
    assert variant.price_changes.first().reason == "product_edit"


def test_a_certificate_scan_must_be_a_pdf_or_a_photo(admin_client_):
    variant = VariantFactory()
    url = reverse("admin:catalog_certificate_add")
    base = {"variant": variant.pk, "lab": "GIA", "number": "1", "carat": "", "colour": "",
            "clarity": "", "cut": "", "issued_on": ""}
    page = SimpleUploadedFile("scan.html", b"<script>alert(1)</script>", content_type="text/html")
    response = admin_client_.post(url, {**base, "scan": page})
    assert response.status_code == 200
    assert not Certificate.objects.exists()
    fake_pdf = SimpleUploadedFile("scan.pdf", b"<html>", content_type="application/pdf")
    assert admin_client_.post(url, {**base, "scan": fake_pdf}).status_code == 200
    pdf = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n...", content_type="application/pdf")
    assert admin_client_.post(url, {**base, "scan": pdf}).status_code == 302
    assert Certificate.objects.get().scan.name.endswith(".pdf")


# --- Import ----------------------------------------------------------------------------------------

HEADER = ",".join(VARIANT_COLUMNS)


def csv_file(*rows: str, name="variants.csv") -> SimpleUploadedFile:
    text = "\n".join([HEADER, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


GOOD_ROWS = (
    "GR-001,heritage-bangle,古法金手镯,Heritage bangle,rings,gold,,,gold,999,12.500,by_weight,,380,"
    "6901234567890,1",
    "GR-002,heritage-bangle,古法金手镯,Heritage bangle,rings,gold,,,gold,999,15.000,by_weight,,420,,1",
    "DR-001,solitaire,钻石戒指,Solitaire,rings,diamond,diamond,12,,,,fixed,12800.00,0,,1",
)


def import_preview(client, file, fmt="0", url_name="admin:catalog_variant_import"):
    return client.post(reverse(url_name), {"resource": "0", "format": fmt, "import_file": file})


def import_confirm(client, preview, url_name="admin:catalog_variant_process_import"):
    form = preview.context["confirm_form"]
    data = {name: form.initial[name] for name in
            ("import_file_name", "original_file_name", "format", "resource")}
    return client.post(reverse(url_name), data)


def test_importing_a_good_csv_creates_products_and_variants(admin_client_):
    CategoryFactory()
    MetalRate.objects.create(metal="gold", purity="999", rate_per_gram=Decimal("800.00"),
                             valid_from=timezone.now() - timedelta(hours=1))

    preview = import_preview(admin_client_, csv_file(*GOOD_ROWS))
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert preview.context["confirm_form"]
    assert not Variant.objects.exists() and not Product.objects.exists()  # a preview only

    response = import_confirm(admin_client_, preview)

    assert response.status_code == 302
    assert Product.objects.count() == 2
    bangle = Product.objects.get(slug="heritage-bangle")
    assert (bangle.name, bangle.name_en, bangle.category.slug, bangle.material) == (
        "古法金手镯", "Heritage bangle", "rings", "gold")
    assert sorted(bangle.variants.values_list("sku", flat=True)) == ["GR-001", "GR-002"]
    gr1 = Variant.objects.get(sku="GR-001")
    assert (gr1.weight_g, gr1.labour_fee, gr1.barcode) == (
        Decimal("12.500"), Decimal("380.00"), "6901234567890")
    # products_changed ran: prices and search text are there.
    assert gr1.current_price == Decimal("10380.00")  # 12.5 x 800 + 380
    assert bangle.price_from == Decimal("10380.00")
    assert "gr-001" in bangle.search_document
    solitaire = Product.objects.get(slug="solitaire")
    assert (solitaire.gemstone, solitaire.price_from) == ("diamond", Decimal("12800.00"))


def test_importing_again_updates_variants_by_sku(admin_client_):
    CategoryFactory()
    import_confirm(admin_client_, import_preview(admin_client_, csv_file(*GOOD_ROWS)))
    changed = csv_file("DR-001,solitaire,,,,,,13,,,,fixed,13500,0,,0")
    preview = import_preview(admin_client_, changed)
    assert [row.import_type for row in preview.context["result"].rows] == ["update"]
    import_confirm(admin_client_, preview)

    variant = Variant.objects.get(sku="DR-001")
    assert (variant.size, variant.list_price, variant.is_active) == (
        "13", Decimal("13500.00"), False)
    assert variant.product.name == "钻石戒指"  # empty product cells leave the product alone
    assert Variant.objects.count() == 3


@pytest.mark.parametrize(("bad_row", "column"), [
    ("X-1,new-piece,新品,New,no-such-category,gold,,,,,,fixed,100,0,,1", "category_slug"),
    ("X-1,new-piece,新品,New,rings,gold,,,,,,fixed,,0,,1", "__all__"),  # fixed without a price
    ("X-1,new-piece,新品,New,rings,gold,,,gold,999,abc,by_weight,,100,,1", "weight_g"),
    ("X-1,new-piece,新品,New,rings,gold,,,gold,999,,by_weight,,100,,1", "__all__"),  # no weight
    ("X-1,new-piece,新品,New,rings,tin,,,,,,fixed,100,0,,1", "material"),
    ("X-1,new-piece,新品,New,rings,gold,,,,,,auction,100,0,,1", "pricing_mode"),
    ("X-1,new-piece,新品,New,rings,gold,,,,,,fixed,100,0,,maybe", "is_active"),
    ("X-1,,新品,New,rings,gold,,,,,,fixed,100,0,,1", "product_slug"),
    ("X-1,new-piece,,New,rings,gold,,,,,,fixed,100,0,,1", "product_name"),
    (",new-piece,新品,New,rings,gold,,,,,,fixed,100,0,,1", "sku"),
    ("X-1,new-piece,新品,New,rings,gold,,,,,,fixed,NaN,0,,1", "list_price"),
])
def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(admin_client_, bad_row, column):
    CategoryFactory()
    response = import_preview(admin_client_, csv_file(*GOOD_ROWS, bad_row))

    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors()  # reported as row errors, not crashes
    [invalid] = result.invalid_rows
    assert invalid.number == len(GOOD_ROWS) + 1
    assert column in invalid.error_dict
    assert "confirm_form" not in response.context
    assert not Product.objects.exists()
    assert not Variant.objects.exists()


def test_file_level_errors_show_the_reason_without_a_traceback(admin_client_):
    response = import_preview(admin_client_, SimpleUploadedFile("x.csv", b"price,name\n1,a\n"))
    assert response.status_code == 200
    assert response.context["result"].has_errors()
    assert "sku" in response.text
    assert "Traceback" not in response.text


def test_a_sku_cannot_be_moved_to_another_product_by_import(admin_client_):
    variant = VariantFactory(sku="KEEP-1")
    ProductFactory(slug="elsewhere")
    response = import_preview(admin_client_, csv_file(
        "KEEP-1,elsewhere,,,,,,,,,,fixed,100,0,,1"))
    [invalid] = response.context["result"].invalid_rows
    assert "product_slug" in invalid.error_dict
    variant.refresh_from_db()
    assert variant.product.slug != "elsewhere"


def test_when_a_row_turns_bad_between_preview_and_confirm_nothing_is_imported(admin_client_):
    category = CategoryFactory()
    preview = import_preview(admin_client_, csv_file(*GOOD_ROWS))
    assert preview.context["confirm_form"]
    # Someone takes the category away before the confirmation...
    category.delete()
    CategoryFactory(slug="other")

    response = import_confirm(admin_client_, preview)

    assert response.status_code == 302
    assert response.url == reverse("admin:catalog_variant_import")
    [message] = message_texts(response)
    with translation.override(settings.LANGUAGE_CODE):
        nothing = translation.gettext("Nothing was imported. %(errors)s").split("%(errors)s")[0]
    assert message.startswith(nothing.strip())
    assert "category_slug" in message
    assert not Product.objects.exists() and not Variant.objects.exists()


def test_an_xlsx_import_works_like_a_csv(admin_client_):
    CategoryFactory()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(VARIANT_COLUMNS))
    sheet.append(["PT-001", "platinum-band", "铂金素圈", "Platinum band", "rings", "platinum",
                  None, 12, "platinum", 950, 4.25, "by_weight", None, 300, 6901234567891, 1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    file = SimpleUploadedFile("variants.xlsx", buffer.getvalue())

    preview = import_preview(admin_client_, file, fmt="1")
    assert not preview.context["result"].has_validation_errors()
    assert import_confirm(admin_client_, preview).status_code == 302
    variant = Variant.objects.get(sku="PT-001")
    assert (variant.size, variant.purity, variant.weight_g, variant.barcode) == (
        "12", "950", Decimal("4.250"), "6901234567891")


@pytest.mark.parametrize(("content", "fmt"), [
    (b"this is not a spreadsheet", "1"),  # XLSX that is not a zip
    (b"\xff\xfe\x00garbage\x00", "0"),
    (b"price,name\n1,ring\n", "0"),  # no sku column
    (b"", "0"),
])
def test_an_unreadable_import_file_is_a_message_not_a_crash(admin_client_, content, fmt):
    response = import_preview(admin_client_, SimpleUploadedFile("bad.csv", content), fmt=fmt)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert not Variant.objects.exists()


def test_a_csv_saved_by_chinese_excel_is_read(admin_client_):
    CategoryFactory()
    text = "\n".join([HEADER, GOOD_ROWS[2]]) + "\n"
    file = SimpleUploadedFile("variants.csv", text.encode("gb18030"))
    preview = import_preview(admin_client_, file)
    assert not preview.context["result"].has_validation_errors()
    import_confirm(admin_client_, preview)
    assert Product.objects.get(slug="solitaire").name == "钻石戒指"


def test_an_import_file_over_the_limit_is_refused(admin_client_, monkeypatch):
    from catalog.forms import CatalogImportForm

    monkeypatch.setattr(CatalogImportForm, "MAX_BYTES", 100)
    response = import_preview(admin_client_, csv_file(*GOOD_ROWS))
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["import_file"]] == [
        "import_too_large"]


def test_only_staff_who_may_add_products_and_variants_may_import(client):
    from django.contrib.auth.models import Permission

    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(
        codename__in=["view_variant", "add_variant", "change_variant"]))
    client.force_login(clerk)
    assert client.get(reverse("admin:catalog_variant_import")).status_code == 403
    assert client.get(reverse("admin:catalog_variant_export")).status_code == 200


def test_the_product_import_updates_products_by_slug(admin_client_):
    product = ProductFactory(slug="bangle")
    file = SimpleUploadedFile("products.csv", (
        "slug,name,name_en,category_slug,material,gemstone,style,audience,tags,description,"
        "description_en,is_active,price_from\n"
        "bangle,新名字,New name,rings,gold,,古法,women,\"古法，婚嫁\",,,1,1\n"
        "orphan,无类,No category,nowhere,gold,,,women,,,,1,\n").encode())
    response = import_preview(admin_client_, file, url_name="admin:catalog_product_import")
    [invalid] = response.context["result"].invalid_rows
    assert invalid.number == 2 and "category" in invalid.error_dict
    product.refresh_from_db()
    assert product.name != "新名字"


# --- Export ----------------------------------------------------------------------------------------


def export(client, fmt: str):
    data = {"format": fmt, "resource": "0",
            **{f"variantresource_{column}": "on" for column in VARIANT_COLUMNS}}
    return client.post(reverse("admin:catalog_variant_export"), data)


def export_fixture():
    bangle = ByWeightVariantFactory(sku="GR-001", size="", weight_g=Decimal("12.500"),
                                    labour_fee=Decimal("380.00"), barcode="6901234567890",
                                    product__slug="heritage-bangle", product__name="古法金手镯")
    VariantFactory(sku="DR-001", size="12", product__gemstone="diamond", is_active=False)
    return bangle


def test_the_variant_export_as_csv_has_the_columns(admin_client_, django_assert_max_num_queries):
    export_fixture()
    with django_assert_max_num_queries(4):  # the user, then one cursor over the variants
        response = export(admin_client_, "0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(VARIANT_COLUMNS)
    rows = {line.split(",")[0]: dict(zip(VARIANT_COLUMNS, line.split(","), strict=True))
            for line in lines[1:]}
    assert rows["GR-001"]["product_slug"] == "heritage-bangle"
    assert rows["GR-001"]["product_name"] == "古法金手镯"
    assert rows["GR-001"]["category_slug"] == "rings"
    assert rows["GR-001"]["weight_g"] == "12.500"
    assert rows["GR-001"]["pricing_mode"] == "by_weight"
    assert rows["DR-001"]["gemstone"] == "diamond"
    assert rows["DR-001"]["is_active"] == "0"


def test_the_variant_export_as_xlsx_opens_in_openpyxl(admin_client_):
    export_fixture()
    response = export(admin_client_, "1")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert list(rows[0]) == list(VARIANT_COLUMNS)
    by_sku = {row[0]: dict(zip(VARIANT_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert by_sku["GR-001"]["product_slug"] == "heritage-bangle"
    assert Decimal(str(by_sku["GR-001"]["weight_g"])) == Decimal("12.5")
    assert by_sku["DR-001"]["list_price"] == 1999


def test_the_product_export_has_its_columns(admin_client_):
    variant = VariantFactory(product__tags=["古法", "婚嫁"])
    products_changed(product_ids=[variant.product_id])
    data = {"format": "0", "resource": "0",
            **{f"productresource_{name}": "on" for name in PRODUCT_FIELDS}}
    response = admin_client_.post(reverse("admin:catalog_product_export"), data)
    assert response.status_code == 200
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == ["slug", "name", "name_en", "category_slug", "material", "gemstone",
                      "style", "audience", "tags", "description", "description_en", "is_active",
                      "price_from"]
    values = dict(zip(header, row, strict=True))
    assert (values["category_slug"], values["tags"], values["price_from"]) == (
        "rings", "古法,婚嫁", "1999.00")


def test_an_export_imports_back_unchanged(admin_client_):
    export_fixture()
    products_changed(product_ids=Product.objects.values_list("id", flat=True))
    exported = export(admin_client_, "0").content
    before = list(Variant.objects.order_by("sku").values())
    preview = import_preview(admin_client_, SimpleUploadedFile("again.csv", exported))
    assert {row.import_type for row in preview.context["result"].rows} == {"update"}
    import_confirm(admin_client_, preview)
    assert list(Variant.objects.order_by("sku").values()) == before
    assert Category.objects.count() == 1
