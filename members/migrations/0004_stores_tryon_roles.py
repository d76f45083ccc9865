from django.db import migrations

from members.roles import roles_sync


class Migration(migrations.Migration):
    """Staff roles gain the try-on, transfer, reservation, closure and count permissions."""

    dependencies = [
        ("members", "0003_staff_roles"),
        ("stores", "0002_tryon_transfers_reservations"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
