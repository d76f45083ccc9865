from django.db import migrations

from members.roles import roles_sync


class Migration(migrations.Migration):
    """The dashboards' permission for store managers, marketers and analysts, and head
    office's "every store" (stores.view_all_stores) for analysts and marketers: the analyst
    saw no order at all, working at no store. See members/roles.py."""

    dependencies = [
        ("analytics", "0002_facts_and_rollups"),
        ("members", "0010_coupon_tables"),
        ("stores", "0009_stock_arrival_every_store"),
        ("orders", "0007_ticket_event_data"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
