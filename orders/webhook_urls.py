"""Provider webhooks: no language prefix, no CSRF (the provider signs each notice)."""

urlpatterns: list = []
