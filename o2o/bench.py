"""The bare JSON view that `make bench` measures every page against."""

from django.http import JsonResponse


def bare(request):
    return JsonResponse({"ok": True})
