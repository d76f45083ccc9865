from django.db import migrations


def create(apps, schema_editor):
    from journeys.builtins import builtins_ensure

    builtins_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("journeys", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
