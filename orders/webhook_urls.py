"""Provider webhooks: no language prefix, no CSRF (the provider signs each notice)."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from o2o.errors import error_response

from .services.payments import BadSignature, stripe_event_process, stripe_event_verify


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's events. 400 for a missing or bad signature; 200 for every verified event,
    new or replayed, whatever its outcome (an amount mismatch or an unknown order would
    be the same on every retry, so a 4xx/5xx would only make Stripe resend it for days:
    the outcome is recorded on the PaymentEvent and the order instead). A database error
    gives a 500 and Stripe sends the event again; nothing of it was kept."""
    try:
        event = stripe_event_verify(payload=request.body,
                                    signature=request.headers.get("Stripe-Signature"))
    except BadSignature as exc:
        return error_response(exc)
    record = stripe_event_process(event=event)
    return JsonResponse({"received": True, "outcome": record.outcome})


urlpatterns = [
    path("stripe/webhook", stripe_webhook, name="stripe-webhook"),
]
