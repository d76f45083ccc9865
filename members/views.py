"""The member's own pages. Thin: parse with members.forms, write through members.services,
render. Private pages (never cached); anonymous visitors are sent to sign in.

    members:account          /account/                         overview: tier, points, links
    members:profile          /account/profile/                 details (GET, POST)
    members:addresses        /account/addresses/               address book
    members:address_add      /account/addresses/new/           (GET, POST)
    members:address_edit     /account/addresses/<id>/          (GET, POST)
    members:address_delete   /account/addresses/<id>/delete/   POST
    members:address_default  /account/addresses/<id>/default/  POST
    members:points           /account/points/                  balance and ledger, 20 a page
    members:consents         /account/consents/                marketing consents (GET, POST)
    members:wallet           /account/coupons/                 my coupons: usable, used, expired or void

Mobile verification is allauth's (account_change_phone, account_verify_phone), sending
through o2o.sms (members.adapter).
"""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from o2o.errors import ApplicationError

from .forms import AddressForm, ConsentForm, ProfileForm
from .models import ADDRESS_FIELDS, Address, Consent, ConsentChannel, PointsEntry
from .selectors import wallet_for_member
from .services import (
    AddressInvalid,
    ProfileInvalid,
    address_delete,
    address_make_default,
    address_save,
    consent_set,
    member_profile_update,
    member_standing,
    points_value,
)

PER_PAGE = 20


def _add_field_errors(form, error: ApplicationError) -> None:
    fields = error.extra.get("fields") or {}
    if not fields:
        form.add_error(None, error.message)
    for name, problems in fields.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


@never_cache
@login_required
def account(request):
    standing = member_standing(member=request.user)
    return render(request, "members/account.html", {
        "user": request.user, "profile": standing.profile, "tier": standing.profile.tier,
        "next_tier": standing.next_tier, "spend_to_next": standing.spend_to_next,
    })


@never_cache
@login_required
def profile(request):
    standing = member_standing(member=request.user)
    current = standing.profile
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST, current_ring_size=current.ring_size)
        if form.is_valid():
            try:
                member_profile_update(member=request.user, **form.cleaned_data)
            except ProfileInvalid as error:
                _add_field_errors(form, error)
            else:
                messages.success(request, _("Your details are saved."))
                return redirect("members:profile")
        status = 400
    else:
        form = ProfileForm(current_ring_size=current.ring_size, initial={
            "name": request.user.name, "gender": current.gender,
            "birthday": current.birthday, "anniversary": current.anniversary,
            "ring_size": current.ring_size, "home_store": current.home_store_id,
            "preferred_categories": list(current.preferred_categories.values_list(
                "pk", flat=True)),
        })
    return render(request, "members/profile.html", {"form": form, "profile": current},
                  status=status)


@never_cache
@login_required
def addresses(request):
    book = list(Address.objects.filter(member=request.user).order_by(
        "-is_default", "-created_at", "-pk"))
    return render(request, "members/addresses.html", {"addresses": book})


def _own_address(request, pk: int) -> Address:
    address = Address.objects.filter(pk=pk, member=request.user).first()
    if address is None:
        raise Http404(_("There is no such address in your address book."))
    return address


def _address_form_page(request, address: Address | None):
    status = 200
    if request.method == "POST":
        form = AddressForm(request.POST)
        if form.is_valid():
            try:
                address_save(member=request.user, address=address, data=form.cleaned_data,
                             make_default=form.cleaned_data["make_default"])
            except AddressInvalid as error:
                _add_field_errors(form, error)
            else:
                messages.success(request, _("The address is saved."))
                return redirect("members:addresses")
        status = 400
    elif address is not None:
        form = AddressForm(initial={name: getattr(address, name) for name in ADDRESS_FIELDS})
    else:
        form = AddressForm(initial={"recipient": request.user.name,
                                    "phone": request.user.phone or ""})
    return render(request, "members/address_form.html",
                  {"form": form, "address": address}, status=status)


@never_cache
@login_required
def address_add(request):
    return _address_form_page(request, None)


@never_cache
@login_required
def address_edit(request, pk: int):
    return _address_form_page(request, _own_address(request, pk))


@require_POST
@login_required
def address_remove(request, pk: int):
    address_delete(member=request.user, address=_own_address(request, pk))
    messages.success(request, _("The address is deleted."))
    return redirect("members:addresses")


@require_POST
@login_required
def address_default(request, pk: int):
    address_make_default(member=request.user, address=_own_address(request, pk))
    messages.success(request, _("This is now your default address."))
    return redirect("members:addresses")


@never_cache
@login_required
def points(request):
    """The balance, tier and ledger, newest first: the same queries on every page."""
    standing = member_standing(member=request.user)
    entries = PointsEntry.objects.filter(member=request.user).order_by("-created_at", "-id")
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "members/points.html", {
        "profile": standing.profile, "tier": standing.profile.tier,
        "next_tier": standing.next_tier, "spend_to_next": standing.spend_to_next,
        "points_worth": points_value(standing.profile.points_balance),
        "page": page, "entries": page,
    })


@never_cache
@login_required
def consents(request):
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            channel, granted = form.cleaned_data["channel"], form.cleaned_data["granted"]
            consent_set(member=request.user, channel=channel, granted=granted,
                        actor=request.user)
            label = ConsentChannel(channel).label
            messages.success(request, (_("You will receive offers by %(channel)s.") if granted
                                       else _("You will no longer receive offers by "
                                              "%(channel)s.")) % {"channel": label})
            return redirect("members:consents")
        messages.error(request, _("Choose a channel and yes or no."))
        status = 400
    history = list(Consent.objects.filter(member=request.user).select_related("store")
                   .order_by("-granted_at", "-pk"))
    channels = []
    for channel in ConsentChannel:
        rows = [row for row in history if row.channel == channel]
        current = next((row for row in rows if row.withdrawn_at is None), None)
        channels.append({"code": channel.value, "label": channel.label, "current": current,
                         "history": rows})
    return render(request, "members/consents.html", {"channels": channels}, status=status)


def coupon_qr_svg(code: str) -> str:
    """An inline SVG holding the code only (the counter's scanner types what a clerk
    would); a viewBox and no fixed size, so CSS sizes it."""
    return segno.make(code, error="m", micro=False).svg_inline(scale=4, border=2, omitsize=True)


@never_cache
@login_required
def wallet(request):
    """The wallet (a fixed number of queries whatever the number of coupons); each usable
    code large and as a QR image (segno) so a clerk can scan or type it at the counter."""
    coupons = wallet_for_member(member=request.user)
    return render(request, "members/wallet.html", {
        "wallet": coupons,
        "usable": [(entry, coupon_qr_svg(entry.code)) for entry in coupons.usable],
    })
