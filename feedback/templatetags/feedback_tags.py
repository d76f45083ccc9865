from django import template

register = template.Library()


@register.filter
def person(user) -> str:
    """A staff member or shopper as staff screens name them: the name, else the email;
    empty for nobody."""
    if user is None:
        return ""
    return user.name or user.email or ""
