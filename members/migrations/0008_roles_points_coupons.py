from django.db import migrations

from members.roles import roles_sync


class Migration(migrations.Migration):
    """Store managers may correct a member's points (with a note); store staff no longer
    list coupons (printed codes not yet used stay with marketing). See members/roles.py."""

    dependencies = [("members", "0007_member_registration_entry")]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
