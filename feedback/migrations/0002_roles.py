"""The feedback permissions of the staff roles, and the Head office role
(members/roles.py is their one definition; roles_sync sets each group to exactly it).
Kept in this app, whose tables the permissions name, so the roles migrate after them."""

from django.db import migrations

from members.roles import roles_sync


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0001_initial"),
        ("members", "0010_coupon_tables"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(roles_sync, migrations.RunPython.noop),
    ]
