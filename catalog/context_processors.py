from django.utils.functional import SimpleLazyObject

from .selectors import category_menu


def catalog(request):
    """The category menu of the storefront's header: lazy, so a page that does not show it
    (the admin) pays nothing; one query on a cold cache, none on a warm one."""
    return {"CATEGORY_MENU": SimpleLazyObject(category_menu)}
