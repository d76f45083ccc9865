from django.db import migrations

# Every change of an order leaves an audit row (orders.OrderEvent: placed, each status
# move, payment, refund...) written in the change's transaction. This trigger marks the
# order for analytics' fold in that same transaction: the mark commits with the change
# or not at all, costs the shop's request no query of its own, and holds for rows
# written in bulk too (a member's erasure). A watermark on the audit ids could skip the
# row of a transaction that commits late; a Django receiver would add a query to every
# move of every order.
FORWARD = """
CREATE FUNCTION analytics_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_dirtyorder (order_id, marked_at)
    VALUES (NEW.order_id, now()) ON CONFLICT (order_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER analytics_order_changed AFTER INSERT ON orders_orderevent
    FOR EACH ROW EXECUTE FUNCTION analytics_order_changed();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS analytics_order_changed ON orders_orderevent;
DROP FUNCTION IF EXISTS analytics_order_changed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_dashboard_roles"),
        ("orders", "0007_ticket_event_data"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
