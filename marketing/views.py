"""Shopper-facing marketing pages: the email's open pixel and tracked links, one-click
unsubscribe, the SMS provider's reply hook, and the member's inbox. Thin: each parses a
signed token and calls marketing.services."""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from .links import click_token_read, open_token_read, unsubscribe_token_read
from .selectors import inbox_for
from .services.inbox import inbox_mark_read
from .services.tracking import sms_reply_receive, touch_clicked, touch_opened, touch_unsubscribe

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
def opened(request, token: str):
    touch_id = open_token_read(token)
    if touch_id is not None:
        touch_opened(touch_id=touch_id)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
def clicked(request, token: str):
    read = click_token_read(token)
    if read is None:
        return HttpResponseRedirect("/")
    touch_id, path = read
    touch_clicked(touch_id=touch_id)
    return HttpResponseRedirect(path)


@csrf_exempt  # mail programs POST the one-click unsubscribe (RFC 8058) without a form
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks (a page with one button: mail scanners and link previews open links, and
    must not withdraw anybody's consent); POST withdraws: the button, or the mail
    program's one-click POST (RFC 8058, List-Unsubscribe-Post)."""
    read = unsubscribe_token_read(token)
    if read is None:
        return render(request, "marketing/unsubscribed.html", {"valid": False}, status=400)
    touch_id, channel = read
    if request.method == "GET":
        return render(request, "marketing/unsubscribed.html",
                      {"valid": True, "asking": True, "channel": channel})
    member = touch_unsubscribe(touch_id=touch_id, channel=channel)
    return render(request, "marketing/unsubscribed.html",
                  {"valid": member is not None, "done": member is not None, "channel": channel},
                  status=200 if member is not None else 400)


@csrf_exempt  # the SMS provider's callback, authenticated by its shared token
@require_POST
def sms_reply(request):
    expected = getattr(settings, "MARKETING_SMS_REPLY_TOKEN", "")
    given = request.headers.get("X-Reply-Token", "")
    if not expected or not hmac.compare_digest(expected, given):
        return JsonResponse({"code": "forbidden", "detail": "bad token"}, status=403)
    phone, text = request.POST.get("phone", ""), request.POST.get("text", "")
    if not phone:
        return HttpResponseBadRequest("phone is required")
    return JsonResponse({"opted_out": sms_reply_receive(phone=phone[:32], text=text[:70])})


@login_required
def inbox(request):
    items = inbox_for(member=request.user)
    unread = [item.pk for item in items if item.read_at is None]
    response = render(request, "marketing/inbox.html", {"items": items})
    if unread:
        inbox_mark_read(member=request.user, item_ids=unread)
    return response
