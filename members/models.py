from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from o2o.phone import phone_mask


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **fields):
        email = self.normalize_email(email).lower() if email else None
        user = self.model(email=email, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in: shoppers and staff. Email and/or mobile (E.164) identify them.

    Members registered at a counter may have only a phone; staff need an email
    for the admin. One of the two is always present (CHECK constraint).
    """

    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    phone = models.CharField(_("mobile number"), max_length=20, unique=True, null=True, blank=True,
                             help_text=_("E.164, for example +8613800138000"))
    phone_verified = models.BooleanField(_("mobile verified"), default=False)
    name = models.CharField(_("name"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    is_staff = models.BooleanField(_("staff"), default=False,
                                   help_text=_("Can log in to the back office."))
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False),
                name="user_has_email_or_phone",
                violation_error_code="no_login",
                violation_error_message=_("Give an email or a mobile number."),
            ),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="user_email_lowercase"),
            models.CheckConstraint(condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                                   name="user_phone_e164"),
        ]

    def __str__(self):
        # Shown in every admin (raw-id widgets, audit rows): never the whole number.
        return self.name or self.email or phone_mask(self.phone) or f"#{self.pk}"

    def clean(self):
        super().clean()
        self.email = self.email.lower() if self.email else None
        self.phone = self.phone or None

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name


class Gender(models.TextChoices):
    FEMALE = "f", _("female")
    MALE = "m", _("male")
    UNDISCLOSED = "", _("not given")


class Channel(models.TextChoices):
    ONLINE = "online", _("online")
    STORE = "store", _("in store")


class Tier(models.Model):
    """A membership level (普卡, 银卡, 金卡, 钻石卡...), reached by the member's spend over the
    last 12 months across every channel. The tier with the highest ``min_spend`` the member
    reaches is theirs; the lowest tier should start at 0."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=40, blank=True)
    min_spend = models.DecimalField(_("spend over 12 months from"), max_digits=12,
                                    decimal_places=2, unique=True,
                                    help_text=_("In yuan, across the web shop and the stores."))
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=Decimal("1.00"),
        help_text=_("Points earned per yuan are multiplied by this (1.5 earns half as much again)."))

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["min_spend"]
        constraints = [
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="tier_min_spend_not_negative"),
            models.CheckConstraint(condition=Q(points_multiplier__gt=0),
                                   name="tier_multiplier_positive"),
        ]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        lang = get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class MemberProfile(models.Model):
    """What the shop knows of a member beyond the login; one per shopper.

    ``points_balance``, ``spend_12m`` and ``tier`` are caches written only by
    members.services (the balance is always the sum of the member's PointsEntry rows,
    changed in the same transaction as the entry)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile", verbose_name=_("user"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    anniversary = models.DateField(_("wedding anniversary"), null=True, blank=True)
    ring_size = models.CharField(_("ring size"), max_length=10, blank=True)
    home_store = models.ForeignKey("stores.Store", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("home store"))
    preferred_categories = models.ManyToManyField("catalog.Category", blank=True,
                                                  related_name="+",
                                                  verbose_name=_("preferred categories"))
    registered_channel = models.CharField(_("registered"), max_length=10, choices=Channel.choices,
                                          default=Channel.ONLINE)
    registered_store = models.ForeignKey("stores.Store", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+",
                                         verbose_name=_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+",
                                      verbose_name=_("registered by"))
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="members", verbose_name=_("tier"))
    spend_12m = models.DecimalField(_("spend over 12 months"), max_digits=14, decimal_places=2,
                                    default=Decimal("0.00"))
    points_balance = models.IntegerField(_("points"), default=0)
    tier_checked_at = models.DateTimeField(_("tier checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("member profile")
        verbose_name_plural = _("member profiles")
        permissions = [
            ("view_contact", _("Can see members' full mobile numbers and birthdays")),
        ]

    def __str__(self):
        return str(self.user)


class PointsKind(models.TextChoices):
    EARN = "earn", _("earned")
    REDEEM = "redeem", _("redeemed")
    RETURN = "return", _("given back")  # points redeemed on an order that did not go through
    REVERSE = "reverse", _("taken back")  # points earned on an order that was returned
    ADJUST = "adjust", _("adjusted")


class PointsEntry(models.Model):
    """One line of a member's points ledger: append-only (a trigger refuses UPDATE).

    ``points`` is signed; the balance is the sum. ``spend`` is the qualifying spend the
    entry adds to (or, negative, takes from) the member's 12-month spend for the tier.
    Earning, redeeming and giving back happen once per order (UNIQUE kind + reference)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="points_entries", verbose_name=_("member"))
    kind = models.CharField(_("kind"), max_length=10, choices=PointsKind.choices)
    points = models.IntegerField(_("points"))
    spend = models.DecimalField(_("qualifying spend"), max_digits=14, decimal_places=2,
                                default=Decimal("0.00"))
    reference = models.CharField(_("reference"), max_length=40, blank=True,
                                 help_text=_("The order number, where there is one."))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("by"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at", "-id"],
                                name="points_entry_member_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0) | ~Q(spend=0),
                                   name="points_entry_not_empty"),
            models.UniqueConstraint(
                fields=["kind", "reference"], name="points_entry_once_per_order",
                condition=Q(kind__in=["earn", "redeem", "return"]) & ~Q(reference="")),
        ]

    def __str__(self):
        return f"{self.points:+d} {self.get_kind_display()}"


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("email")
    SMS = "sms", _("text message")


class Consent(models.Model):
    """A member's yes to marketing on one channel, from ``granted_at`` until
    ``withdrawn_at``. Rows are kept when withdrawn: the history is the proof. At most one
    open row per member and channel."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="consents", verbose_name=_("member"))
    channel = models.CharField(_("channel"), max_length=10, choices=ConsentChannel.choices)
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    source = models.CharField(_("given"), max_length=10, choices=Channel.choices,
                              default=Channel.ONLINE)
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("store"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "channel"], name="consent_one_open",
                                    condition=Q(withdrawn_at__isnull=True)),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=F("granted_at")),
                name="consent_withdrawn_after_granted"),
        ]

    def __str__(self):
        return f"{self.member} {self.channel}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class Address(models.Model):
    """A delivery address in the member's address book (the checkout form's fields)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="addresses", verbose_name=_("member"))
    recipient = models.CharField(_("recipient"), max_length=50)
    phone = models.CharField(_("mobile number"), max_length=20)
    province = models.CharField(_("province"), max_length=30)
    city = models.CharField(_("city"), max_length=30)
    district = models.CharField(_("district"), max_length=30)
    street = models.CharField(_("street address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=6)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(is_default=True),
                                    name="address_one_default"),
        ]

    def __str__(self):
        return f"{self.recipient}, {self.city} {self.street}"

    def as_dict(self) -> dict:
        """The shape of Order.address and the checkout's DeliveryAddressForm."""
        return {name: getattr(self, name) for name in ADDRESS_FIELDS}


ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "street", "postcode")


class MemberRegistration(MemberProfile):
    """No table of its own: the admin index's entry for registering a member at a counter."""

    class Meta:
        proxy = True
        verbose_name = _("member registration")
        verbose_name_plural = _("register a member")


# --- The coupon engine's records (definitions, issued codes, batches, redemptions) ---


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("percent off")
    AMOUNT = "amount", _("amount off")
    THRESHOLD = "threshold", _("amount off above a spend (满减)")


class CouponChannel(models.TextChoices):
    ONLINE = "online", _("online")
    STORE = "store", _("in store")
    BOTH = "both", _("online and in store")


class CouponDefinition(models.Model):
    """What a coupon is worth and where it works; issued codes are ``Coupon`` rows.

    Scope: when any of categories, collections or products is given, only those pieces
    count towards the discount (a category includes its sub-categories); the exclusions
    always win. Validity: the window (``valid_from`` .. ``valid_until``) and, when
    ``valid_days`` is set, that many days from the issue of each coupon, whichever ends
    first. Limits count redemptions that were not reversed.
    """

    name = models.CharField(pgettext_lazy("campaign", "name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True,
                                   help_text=_("Shown to members in their wallet."))
    kind = models.CharField(_("kind"), max_length=10, choices=DiscountKind.choices)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2,
                                help_text=_("Percent (e.g. 10) or amount in yuan."))
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2,
                                    default=0,
                                    help_text=_("Of the pieces the coupon covers, in yuan."))
    cap = models.DecimalField(_("maximum discount"), max_digits=12, decimal_places=2,
                              null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=6, choices=CouponChannel.choices,
                               default=CouponChannel.BOTH)
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+",
                                        verbose_name=_("categories"))
    collections = models.ManyToManyField("catalog.Collection", blank=True, related_name="+",
                                         verbose_name=_("collections"))
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+",
                                      verbose_name=_("products"))
    excluded_categories = models.ManyToManyField("catalog.Category", blank=True,
                                                 related_name="+",
                                                 verbose_name=_("excluded categories"))
    excluded_products = models.ManyToManyField("catalog.Product", blank=True, related_name="+",
                                               verbose_name=_("excluded products"))
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("valid for days after issue"), null=True, blank=True,
        help_text=_("Each coupon expires this many days after it is issued."))
    total_limit = models.PositiveIntegerField(_("total limit"), null=True, blank=True,
                                              help_text=_("Redemptions in all; empty: no limit."))
    per_member_limit = models.PositiveIntegerField(_("limit per member"), default=1)
    stacks_with_points = models.BooleanField(_("combines with points"), default=True)
    birthday_tiers = models.ManyToManyField(
        Tier, blank=True, related_name="birthday_coupons",
        verbose_name=_("birthday gift for tiers"),
        help_text=_("Members of these tiers receive one on their birthday (a tier benefit)."))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon definition")
        verbose_name_plural = _("coupon definitions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100),
                                   name="coupon_percent_at_most_100"),
            models.CheckConstraint(condition=Q(cap__isnull=True) | Q(cap__gt=0),
                                   name="coupon_cap_positive"),
            models.CheckConstraint(condition=Q(min_spend__gte=0),
                                   name="coupon_min_spend_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="coupon_window_ordered"),
        ]

    def __str__(self):
        return self.name


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("issued")
    REDEEMED = "redeemed", _("redeemed")
    VOID = "void", _("void")


class CouponBatch(models.Model):
    """Single-use codes made together, for printing in stores (exported as CSV)."""

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="batches", verbose_name=_("definition"))
    quantity = models.PositiveIntegerField(_("quantity"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("batch of printed codes")
        verbose_name_plural = _("batches of printed codes")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="coupon_batch_not_empty"),
        ]

    def __str__(self):
        return f"{self.definition} x {self.quantity}"


class Coupon(models.Model):
    """An issued code: to a member, single-use and anonymous (printed, ``batch``), or a
    public code many shoppers may type (``max_uses`` empty: only the definition's limits).

    ``uses`` counts redemptions not reversed; it and ``status`` are written only by
    members.services.coupons under the row's lock."""

    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="coupons", verbose_name=_("definition"))
    code = models.CharField(_("code"), max_length=24, unique=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="coupons",
                               verbose_name=_("member"))
    batch = models.ForeignKey(CouponBatch, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="coupons", verbose_name=_("batch"))
    max_uses = models.PositiveIntegerField(_("uses allowed"), null=True, blank=True, default=1,
                                           help_text=_("Empty for a public code."))
    uses = models.PositiveIntegerField(_("uses"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices,
                              default=CouponStatus.ISSUED)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    occasion = models.CharField(_("occasion"), max_length=40, blank=True,
                                help_text=_("For example birthday-2026: issued once per occasion."))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                                   name="coupon_uses_within_max"),
            models.UniqueConstraint(fields=["definition", "member", "occasion"],
                                    condition=~Q(occasion=""), name="coupon_once_per_occasion"),
        ]

    def __str__(self):
        return self.code


class Redemption(models.Model):
    """A coupon used on an order (``reference`` = the order number), online or at a
    counter. Reversed (not deleted) when the order is cancelled or refunded."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions",
                               verbose_name=_("coupon"))
    definition = models.ForeignKey(CouponDefinition, on_delete=models.PROTECT,
                                   related_name="redemptions", verbose_name=_("definition"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="redemptions",
                               verbose_name=_("member"))
    reference = models.CharField(_("order"), max_length=40)
    channel = models.CharField(_("channel"), max_length=6, choices=CouponChannel.choices)
    store = models.ForeignKey("stores.Store", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("store"))
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    redeemed_at = models.DateTimeField(_("redeemed"))
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("reversed by"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-redeemed_at"]
        indexes = [models.Index(fields=["definition", "member"], name="redemption_def_member")]
        constraints = [
            models.UniqueConstraint(fields=["reference"], condition=Q(reversed_at__isnull=True),
                                    name="redemption_one_coupon_per_order"),
            models.CheckConstraint(condition=Q(discount__gt=0), name="redemption_discount_positive"),
        ]

    def __str__(self):
        return f"{self.coupon} @ {self.reference}"
