"""``{% chrome "includes/header.html" %}`` and the slots in such a template (catalog.chrome)."""

from django import template
from django.utils.safestring import SafeString

from ..chrome import render_chrome
from ..chrome import slot as slot_mark

register = template.Library()


@register.simple_tag(takes_context=True)
def chrome(context, template_name: str) -> SafeString:
    """The chrome template ``template_name``, from its cached shell, filled for this request."""
    return render_chrome(template_name, context)


@register.simple_tag(takes_context=True)
def slot(context, name: str, argument: str = "") -> SafeString:
    """A place the request fills in (catalog.chrome._Visitor's ``fill_<name>``). Only in a
    template rendered by ``{% chrome %}``: anywhere else it would show as is."""
    if not context.get("in_chrome_shell"):
        raise template.TemplateSyntaxError(
            f"{{% slot {name!r} %}} outside a template rendered by {{% chrome %}}")
    return slot_mark(name, str(argument))
