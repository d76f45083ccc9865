from decimal import Decimal

from django.db import migrations

from members.roles import roles_sync

# The points ledger is append-only: a row, once written, is never changed. Deleting stays
# possible (an erased account takes its ledger with it).
APPEND_ONLY = """
CREATE FUNCTION members_points_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'members_pointsentry is append-only: write a new entry instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER members_points_entry_no_update BEFORE UPDATE ON members_pointsentry
    FOR EACH ROW EXECUTE FUNCTION members_points_entry_append_only();
"""
APPEND_ONLY_UNDO = """
DROP TRIGGER IF EXISTS members_points_entry_no_update ON members_pointsentry;
DROP FUNCTION IF EXISTS members_points_entry_append_only();
"""

# A starting ladder; managers change thresholds and multipliers in the admin.
TIERS = [
    ("classic", "普卡", "Classic", Decimal("0"), Decimal("1.00")),
    ("silver", "银卡", "Silver", Decimal("10000"), Decimal("1.20")),
    ("gold", "金卡", "Gold", Decimal("50000"), Decimal("1.50")),
    ("diamond", "钻石卡", "Diamond", Decimal("200000"), Decimal("2.00")),
]


def tiers_create(apps, schema_editor):
    Tier = apps.get_model("members", "Tier")
    MemberProfile = apps.get_model("members", "MemberProfile")
    for code, name, name_en, min_spend, multiplier in TIERS:
        Tier.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "min_spend": min_spend,
            "points_multiplier": multiplier})
    lowest = Tier.objects.order_by("min_spend").first()
    MemberProfile.objects.filter(tier__isnull=True).update(tier=lowest)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_loyalty"),
        ("marketing", "0003_birthday_tiers"),
    ]

    operations = [
        migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_UNDO),
        migrations.RunPython(tiers_create, migrations.RunPython.noop),
        migrations.RunPython(roles_sync, migrations.RunPython.noop),
    ]
