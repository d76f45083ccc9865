app_name = "stores"

urlpatterns: list = []
