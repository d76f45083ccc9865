from django.db import migrations

from members.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_staffassignment"),
        ("catalog", "0001_initial"),
        ("stores", "0001_initial"),
        ("orders", "0001_initial"),
        ("marketing", "0001_initial"),
        ("analytics", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
