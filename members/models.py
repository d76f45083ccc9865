from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        return self.name or self.email or self.phone or f"#{self.pk}"

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


class MemberProfile(models.Model):
    """What the shop knows of a member beyond the login; one per shopper."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile", verbose_name=_("user"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    anniversary = models.DateField(_("wedding anniversary"), null=True, blank=True)
    ring_size = models.CharField(_("ring size"), max_length=10, blank=True)
    registered_channel = models.CharField(_("registered"), max_length=10, choices=Channel.choices,
                                          default=Channel.ONLINE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("member profile")
        verbose_name_plural = _("member profiles")

    def __str__(self):
        return str(self.user)


class StaffRole(models.TextChoices):
    STAFF = "staff", _("store staff")
    MANAGER = "manager", _("store manager")


class StaffAssignment(models.Model):
    """Which stores a staff user works in; the admin scopes their view by it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="store_assignments", verbose_name=_("user"))
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE,
                              related_name="staff_assignments", verbose_name=_("store"))
    role = models.CharField(_("role"), max_length=10, choices=StaffRole.choices,
                            default=StaffRole.STAFF)
    created_at = models.DateTimeField(_("assigned"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="staff_assignment_once"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.store}"
