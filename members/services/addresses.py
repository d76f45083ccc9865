"""The member's address book: add, edit, delete, choose the default.

Addresses are checked by DeliveryAddressForm (members.forms), the checkout's address step
too, so an address saved here is always one the checkout accepts. A member has at most one
default address (UNIQUE address_one_default); the first address becomes the default,
and when the default is deleted the newest remaining one takes over.

LOCKS: the member's User row, so two writes to one book (two tabs, a double click)
cannot both make a default.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from o2o.errors import ApplicationError, NotFoundError

from ..models import ADDRESS_FIELDS, Address, User

MAX_ADDRESSES = 20


class AddressInvalid(ApplicationError):
    """Bad address input; ``extra["fields"]`` maps each field to its problems."""

    code = "address_invalid"


def address_clean(data: dict | None) -> dict:
    """``data`` checked by DeliveryAddressForm (the address book's and the checkout's):
    the cleaned address fields, or AddressInvalid (400) naming each field's problem."""
    from ..forms import DeliveryAddressForm  # forms imports these services' constants

    data = data or {}
    form = DeliveryAddressForm(data={name: data.get(name, "") for name in ADDRESS_FIELDS})
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        raise AddressInvalid(_("Please check the address."), extra={"fields": fields})
    return {name: form.cleaned_data[name] for name in ADDRESS_FIELDS}


def _lock_book(member: User) -> None:
    list(User.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True))


def _own(member: User, address: Address) -> Address:
    """The member's address, re-read under the book's lock; NotFoundError otherwise."""
    found = Address.objects.filter(pk=address.pk, member=member).first()
    if found is None:
        raise NotFoundError(_("There is no such address in your address book."),
                            code="address_not_found")
    return found


def _clear_default(member: User, *, keep: Address | None = None) -> None:
    others = Address.objects.filter(member=member, is_default=True)
    if keep is not None and keep.pk:
        others = others.exclude(pk=keep.pk)
    others.update(is_default=False)


@transaction.atomic
def address_save(*, member: User, data: dict, address: Address | None = None,
                 make_default: bool = False) -> Address:
    """Add an address (``address`` None) or change one of the member's own.

    ``make_default`` makes it the default; the first address is the default anyway, and
    the default stays the default when edited. AddressInvalid (400) with the fields'
    problems, or when the book is full (MAX_ADDRESSES); NotFoundError (404) for an
    address that is not the member's. Nothing is written unless all is well."""
    cleaned = address_clean(data)
    _lock_book(member)
    if address is not None:
        address = _own(member, address)
    else:
        if Address.objects.filter(member=member).count() >= MAX_ADDRESSES:
            raise AddressInvalid(
                _("Your address book is full (%(max)s addresses): delete one first.")
                % {"max": MAX_ADDRESSES}, code="address_book_full")
        address = Address(member=member)
    has_default = (Address.objects.filter(member=member, is_default=True)
                   .exclude(pk=address.pk).exists())
    becomes_default = make_default or address.is_default or not has_default
    if becomes_default:
        _clear_default(member, keep=address)  # the partial UNIQUE is checked at once
    for name, value in cleaned.items():
        setattr(address, name, value)
    address.is_default = becomes_default
    address.save()
    return address


@transaction.atomic
def address_make_default(*, member: User, address: Address) -> Address:
    """Make one of the member's addresses the default (the old default is one no more)."""
    _lock_book(member)
    address = _own(member, address)
    if not address.is_default:
        _clear_default(member, keep=address)
        address.is_default = True
        address.save(update_fields=["is_default"])
    return address


@transaction.atomic
def address_delete(*, member: User, address: Address) -> None:
    """Delete one of the member's addresses; if it was the default, the newest remaining
    address becomes the default. Orders keep their own copy of the address."""
    _lock_book(member)
    address = _own(member, address)
    was_default = address.is_default
    address.delete()
    if was_default:
        newest = (Address.objects.filter(member=member)
                  .order_by("-created_at", "-pk").values_list("pk", flat=True).first())
        if newest is not None:
            Address.objects.filter(pk=newest).update(is_default=True)
