from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    # Categories, collections and searches are this one list with its filters in the
    # query string (?category=rings&q=...), so every filter link, the back button and
    # the page cache work the same for all of them.
    path("products/", views.product_list, name="product_list"),
    path("products/<slug:slug>/", views.product_detail, name="product"),
    path("search/suggest", views.search_suggest, name="suggest"),
    path("certificates/", views.certificate, name="certificate"),
    # Not under /products/: the page cache (catalog.middleware) must never see it.
    path("recently-viewed/", views.recently_viewed, name="recently_viewed"),
    path("account/wishlist/", views.wishlist, name="wishlist"),
    path("account/wishlist/<slug:slug>/", views.wishlist_toggle, name="wishlist_toggle"),
]
