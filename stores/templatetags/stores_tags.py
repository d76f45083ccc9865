from django import template
from django.utils.translation import get_language

from stores.tokens import appointment_manage_path

register = template.Library()


@register.simple_tag
def appointment_manage_url(appointment) -> str:
    """The signed page where the shopper sees, moves or cancels the appointment."""
    return appointment_manage_path(appointment, language=get_language())
