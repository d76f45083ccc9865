"""The coupon API under /api/v1/. Thin: parse, call members.selectors / the coupon
engine (members.services.coupon_check), serialise.

    GET  me/coupons/       the member's coupons (wallet): value in words, state, usable
    POST coupons/check/    does a code apply? {code, channel?, lines?, with_points?}

The check prices the basket itself: ``lines`` are ``[{sku, quantity}]`` priced with
catalog.pricing.variant_price, the one pricing function, so marketing does not reach into
orders (members sits below orders). The web shop sends its cart's
lines; without lines the basket rules (scope, minimum spend) are not checked and the
discount is 0.

Answers: 200 ``{valid: true, code, discount, eligible, description}`` or 200
``{valid: false, code, reason, detail}`` where ``reason`` is the engine's stable code
(coupon_unknown, coupon_expired, coupon_not_yours, coupon_min_spend...). Anonymous
callers may check codes (a member's own code then says coupon_not_yours). Guessing is
rate limited per IP and per signed-in user (settings.COUPON_CHECK_RATE, "20/m"), on the
same counters as codes typed into the cart (coupon_guess_ensure): every check counts;
past the limit 429 ``{code: "rate_limited", reason, detail}``.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Variant
from catalog.pricing import rates_in_force, variant_price
from o2o.errors import ApplicationError, RateLimited

from ..models import Coupon, CouponChannel
from ..selectors import coupon_describe, coupons_of_member, wallet_coupon
from ..services import CouponNotApplicable, coupon_check, coupon_code_clean
from ..services.coupons import coupon_guess_ensure

TAGS = ["coupons"]
MAX_LINES = 100
MAX_QUANTITY = 20


# --- Serializers ---------------------------------------------------------------------------


class WalletCouponSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField(help_text="The value in words, in the request's "
                                                  "language: “¥200 off orders over ¥2,000”")
    details = serializers.CharField(source="coupon.definition.description",
                                    help_text="The marketer's text for members; may be empty")
    status = serializers.CharField(source="coupon.status", help_text="issued, redeemed, void")
    state = serializers.CharField(help_text="usable, not_yet_valid, used, expired, void")
    usable = serializers.BooleanField(help_text="Can be used now (basket rules aside)")
    channel = serializers.CharField(source="coupon.definition.channel",
                                    help_text="online, store or both")
    channel_label = serializers.CharField(source="channel")
    scope = serializers.CharField(help_text="Which pieces count, in words")
    valid_from = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True,
                                           help_text="When it stops working; null: no end")
    issued_at = serializers.DateTimeField(source="coupon.issued_at")


class CheckLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class CouponCheckSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="As typed; spaces, dashes and case "
                                                          "are ignored")
    channel = serializers.ChoiceField(choices=[CouponChannel.ONLINE, CouponChannel.STORE],
                                      default=CouponChannel.ONLINE)
    lines = CheckLineSerializer(many=True, required=False, allow_null=True,
                                max_length=MAX_LINES,
                                help_text="The basket; omitted: basket rules not checked")
    with_points = serializers.BooleanField(default=False,
                                           help_text="Points will pay part of the order")


class CouponCheckResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    code = serializers.CharField(help_text="The code as read (cleaned)")
    discount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False,
                                        help_text="valid: the discount on these lines")
    eligible = serializers.DecimalField(max_digits=12, decimal_places=2, required=False,
                                        help_text="valid: what the pieces in scope cost")
    description = serializers.CharField(required=False, help_text="valid: the value in words")
    reason = serializers.CharField(
        required=False,
        help_text="not valid: coupon_unknown, coupon_void, coupon_not_yet_valid, "
                  "coupon_expired, coupon_used, coupon_not_yours, coupon_wrong_channel, "
                  "coupon_no_points, coupon_limit_reached, coupon_out_of_scope, "
                  "coupon_min_spend")
    detail = serializers.CharField(required=False, help_text="not valid: why, for people")


class CouponErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="rate_limited, unknown_sku, price_unavailable...")
    detail = serializers.CharField()


# --- Views ---------------------------------------------------------------------------------


class MyCouponsView(ListAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = WalletCouponSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Coupon.objects.none()
        return coupons_of_member(member=self.request.user)

    @extend_schema(summary="My coupons (the wallet)",
                   description="The signed-in member's coupons, soonest expiry first, each "
                               "with its value in words, where it works and whether it can "
                               "be used now.", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        data = self.get_serializer([wallet_coupon(coupon) for coupon in page], many=True).data
        return self.get_paginated_response(data)


def lines_priced(lines: list[dict]) -> list[tuple[Variant, Decimal]]:
    """``[{sku, quantity}]`` -> (variant, line total) pairs at today's prices (one query for
    the pieces, one for the metal rates). Unknown SKUs: ApplicationError unknown_sku;
    a piece without a price today: PriceUnavailable."""
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line["sku"]] = quantities.get(line["sku"], 0) + line["quantity"]
    variants = {v.sku: v for v in Variant.objects.select_related("product")
                .filter(sku__in=quantities, is_active=True, product__is_active=True)}
    unknown = sorted(set(quantities) - set(variants))
    if unknown:
        raise ApplicationError(_("There is no piece %(sku)s in the catalogue.") % {
            "sku": ", ".join(unknown)}, code="unknown_sku", extra={"skus": unknown})
    rates = rates_in_force()
    return [(variants[sku], variant_price(variant=variants[sku], rates=rates).amount * quantity)
            for sku, quantity in quantities.items()]


VALID_EXAMPLE = OpenApiExample("Applies", value={
    "valid": True, "code": "GOLD520", "discount": "200.00", "eligible": "2599.00",
    "description": "¥200 off orders over ¥2,000"})
INVALID_EXAMPLE = OpenApiExample("Does not apply", value={
    "valid": False, "code": "GOLD520", "reason": "coupon_min_spend",
    "detail": "This coupon needs ¥2,000.00 of covered pieces; add ¥400.00 more."})


class CouponCheckView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Does a coupon code apply?",
        description=(
            "Checks a code for the signed-in member (or an anonymous visitor) on a channel, "
            "against the basket given as `lines` ([{sku, quantity}], priced at today's "
            "prices). Without `lines` the basket rules are not checked and the discount "
            "is 0. Always 200 with `valid`; when false, `reason` is a stable code and "
            "`detail` a sentence. Rate limited per IP and per user (429)."),
        request=CouponCheckSerializer,
        responses={200: CouponCheckResultSerializer,
                   400: OpenApiResponse(CouponErrorSerializer, description="Bad input: unknown "
                                        "SKU, a piece without a price, malformed fields"),
                   429: OpenApiResponse(CouponErrorSerializer, description="Too many checks")},
        examples=[VALID_EXAMPLE, INVALID_EXAMPLE], tags=TAGS)
    def post(self, request):
        try:
            coupon_guess_ensure(request=request)
        except RateLimited as error:
            return Response({**error.as_dict(), "reason": error.code}, status=error.status,
                            headers={"Retry-After": "60"})
        data = CouponCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        code = coupon_code_clean(params["code"])
        lines = lines_priced(params["lines"]) if params.get("lines") else None
        member = request.user if request.user.is_authenticated else None
        try:
            quote = coupon_check(code=code, member=member, channel=params["channel"],
                                 lines=lines, with_points=params["with_points"])
        except CouponNotApplicable as exc:
            return Response({"valid": False, "code": code, "reason": exc.code,
                             "detail": str(exc.message), **exc.extra})
        return Response(CouponCheckResultSerializer({
            "valid": True, "code": quote.coupon.code, "discount": quote.discount,
            "eligible": quote.eligible, "description": coupon_describe(quote.coupon.definition),
        }).data)
