"""The member's own record under /api/v1/: the same services as the account pages.

    GET    me/          the member: details, profile, tier, points, consents
    PATCH  me/          change name, profile fields and consents (any of them)
    GET    me/points/   the points ledger, newest first, 20 a page

Session authentication; PATCH needs the CSRF token (X-CSRFToken). Errors: 400
``{"code": "profile_invalid", "detail", "fields"}`` where ``fields`` has the shape of
the request (``{"profile": {"birthday": ["..."]}}``); nothing is saved then.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Consent, ConsentChannel, Gender, PointsEntry, User
from ..selectors import open_shops, profile_categories
from ..services import ProfileInvalid, member_account_update, member_standing

TAGS = ["members"]


# --- What GET answers ------------------------------------------------------------------------

class ProfileSerializer(serializers.Serializer):
    gender = serializers.ChoiceField(choices=Gender.choices, help_text="f, m or empty")
    birthday = serializers.DateField(allow_null=True)
    anniversary = serializers.DateField(allow_null=True, help_text="Wedding anniversary")
    ring_size = serializers.CharField(help_text="Hong Kong size (港码), empty when not given")
    home_store = serializers.CharField(allow_null=True, help_text="The store's code")
    preferred_categories = serializers.ListField(child=serializers.CharField(),
                                                 help_text="Top-level category slugs")


class TierSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language")
    multiplier = serializers.DecimalField(max_digits=4, decimal_places=2,
                                          help_text="Points earned per yuan are multiplied "
                                                    "by this")


class NextTierSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    min_spend = serializers.DecimalField(max_digits=12, decimal_places=2)


class PointsSummarySerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    spend_12m = serializers.DecimalField(max_digits=14, decimal_places=2,
                                         help_text="Qualifying spend over the last 12 months, "
                                                   "online and in stores")
    next_tier = NextTierSerializer(allow_null=True, help_text="Null in the highest tier")
    spend_to_next_tier = serializers.DecimalField(max_digits=14, decimal_places=2,
                                                  allow_null=True)


class ConsentStateSerializer(serializers.Serializer):
    granted = serializers.BooleanField(help_text="Whether offers may be sent on this channel now")
    granted_at = serializers.DateTimeField(allow_null=True, help_text="When the latest consent "
                                                                      "was given")
    withdrawn_at = serializers.DateTimeField(allow_null=True, help_text="When it was withdrawn "
                                                                        "(null while it holds)")


class ConsentsSerializer(serializers.Serializer):
    email = ConsentStateSerializer()
    sms = ConsentStateSerializer()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True, help_text="E.164")
    phone_verified = serializers.BooleanField()
    language = serializers.CharField()
    date_joined = serializers.DateTimeField()
    profile = ProfileSerializer()
    tier = TierSerializer(allow_null=True)
    points = PointsSummarySerializer()
    consents = ConsentsSerializer()


def me_payload(user: User) -> dict:
    """The member as GET me/ shows them: four queries, whatever they hold."""
    standing = member_standing(member=user)
    profile, tier, next_tier = standing.profile, standing.profile.tier, standing.next_tier
    latest = {row.channel: row for row in Consent.objects.filter(member=user)
              .order_by("channel", "-granted_at", "-pk").distinct("channel")}
    consents = {}
    for channel in ConsentChannel.values:
        row = latest.get(channel)
        consents[channel] = {"granted": bool(row and row.withdrawn_at is None),
                             "granted_at": row.granted_at if row else None,
                             "withdrawn_at": row.withdrawn_at if row else None}
    return {
        "id": user.pk, "name": user.name, "email": user.email, "phone": user.phone,
        "phone_verified": user.phone_verified, "language": user.language,
        "date_joined": user.date_joined,
        "profile": {
            "gender": profile.gender, "birthday": profile.birthday,
            "anniversary": profile.anniversary, "ring_size": profile.ring_size,
            "home_store": profile.home_store.code if profile.home_store else None,
            "preferred_categories": list(profile.preferred_categories.order_by(
                "position", "pk").values_list("slug", flat=True)),
        },
        "tier": ({"code": tier.code, "name": tier.title, "multiplier": tier.points_multiplier}
                 if tier else None),
        "points": {
            "balance": profile.points_balance, "spend_12m": profile.spend_12m,
            "next_tier": ({"code": next_tier.code, "name": next_tier.title,
                           "min_spend": next_tier.min_spend} if next_tier else None),
            "spend_to_next_tier": standing.spend_to_next,
        },
        "consents": consents,
    }


# --- What PATCH takes ------------------------------------------------------------------------

class ProfileUpdateSerializer(serializers.Serializer):
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True,
                                     help_text="YYYY-MM-DD; not in the future")
    anniversary = serializers.DateField(required=False, allow_null=True,
                                        help_text="YYYY-MM-DD; not in the future, not before "
                                                  "the birthday")
    ring_size = serializers.CharField(required=False, allow_blank=True, max_length=10,
                                      help_text="Hong Kong size, 4 to 30")
    home_store = serializers.SlugRelatedField(
        slug_field="code", queryset=open_shops(), required=False, allow_null=True,
        help_text="An open store's code, or null",
        error_messages={"does_not_exist": gettext_lazy(
            "There is no open store with the code {value}.")})
    preferred_categories = serializers.SlugRelatedField(
        slug_field="slug", many=True, required=False,
        queryset=profile_categories(),
        help_text="Slugs of active top-level categories (replaces the list)",
        error_messages={"does_not_exist": gettext_lazy(
            "There is no such category: {value}.")})


class ConsentUpdateSerializer(serializers.Serializer):
    granted = serializers.BooleanField()


class ConsentsUpdateSerializer(serializers.Serializer):
    email = ConsentUpdateSerializer(required=False)
    sms = ConsentUpdateSerializer(required=False)


class MeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    profile = ProfileUpdateSerializer(required=False)
    consents = ConsentsUpdateSerializer(required=False)


class MeErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="profile_invalid")
    detail = serializers.CharField(help_text="For people, in the request's language")
    fields = serializers.DictField(help_text="The problems, shaped like the request: "
                                             '{"profile": {"birthday": ["..."]}}')


class MeView(APIView):
    """The signed-in member."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="The signed-in member: details, profile, tier, points, consents",
                   responses={200: MeSerializer, 403: OpenApiResponse(
                       description="Not signed in")}, tags=TAGS)
    def get(self, request):
        return Response(MeSerializer(me_payload(request.user)).data)

    @extend_schema(
        summary="Change my name, profile and marketing consents",
        description="Give only what changes. Email and mobile number are changed on the "
                    "account pages (the number is verified by a text message). A consent "
                    "given here is recorded as given online, with the time. Bad input: 400 "
                    "profile_invalid, nothing saved.",
        request=MeUpdateSerializer,
        responses={200: MeSerializer, 400: MeErrorSerializer,
                   403: OpenApiResponse(description="Not signed in, or no CSRF token")},
        tags=TAGS)
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data)
        if not serializer.is_valid():
            raise ProfileInvalid(_("Please check the details marked."),
                                 extra={"fields": serializer.errors})
        data = serializer.validated_data
        fields = dict(data.get("profile") or {})
        if "name" in data:
            fields["name"] = data["name"]
        consents = {channel: change["granted"]
                    for channel, change in (data.get("consents") or {}).items()}
        try:
            member_account_update(member=request.user, consents=consents, **fields)
        except ProfileInvalid as error:
            problems = error.extra.get("fields", {})
            shaped: dict = {}
            if "name" in problems:
                shaped["name"] = problems.pop("name")
            if problems:
                shaped["profile"] = problems
            raise ProfileInvalid(error.message, extra={"fields": shaped}) from None
        return Response(MeSerializer(me_payload(request.user)).data)


class PointsEntrySerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display")
    # A plain string: Order.channel's enum has the same name and other labels.
    channel = serializers.CharField(help_text="online or store; empty for an adjustment")

    class Meta:
        model = PointsEntry
        fields = ["id", "kind", "kind_display", "points", "spend", "reference", "channel",
                  "note", "created_at"]
        read_only_fields = fields


class PointsPagination(PageNumberPagination):
    page_size = 20


class MyPointsView(generics.ListAPIView):
    """The member's points ledger, newest first (earned, redeemed, given back, taken back,
    adjusted); ``spend`` is what the entry counts towards the tier."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PointsEntrySerializer
    pagination_class = PointsPagination
    filter_backends: list = []

    def get_queryset(self):
        return PointsEntry.objects.filter(member=self.request.user).order_by(
            "-created_at", "-id")

    @extend_schema(summary="My points ledger, newest first", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
