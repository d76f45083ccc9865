from django import template

from ..selectors import shop_promises as promises_read

register = template.Library()


@register.simple_tag
def shop_promises():
    """{% shop_promises as promises %}: what a running journey does (the sign-up page
    promises nothing else)."""
    return promises_read()
