"""Staff roles are Django groups. This table is their one definition.

A migration (members/0003) creates them; a later capability that needs more
permissions edits this table and adds a migration that calls ``roles_sync``
again. Permissions of models that do not exist yet at that migration are
skipped, so running an old migration against today's table stays safe.
"""

STORE_STAFF = "Store staff"
STORE_MANAGER = "Store manager"
MARKETER = "Marketer"
ANALYST = "Analyst"
HEAD_OFFICE = "Head office"  # the chain's customer care: every store, escalated cases

_CATALOG_READ = [
    "catalog.view_category", "catalog.view_collection", "catalog.view_product",
    "catalog.view_variant", "catalog.view_certificate", "catalog.view_productimage",
    "catalog.view_metalrate",
]
_STORE_FLOOR = [
    "stores.view_store", "stores.view_openinghours", "stores.view_stocklevel",
    "orders.view_order", "orders.change_order", "orders.add_order",
    "orders.view_orderline", "orders.add_orderline", "orders.view_payment",
    "orders.add_payment", "orders.view_orderevent",
    "members.view_user", "members.add_user", "members.view_memberprofile",
    "members.add_memberprofile", "members.change_memberprofile",
    # Redemptions, not the coupon list: printed codes not yet used stay with marketing.
    "members.view_redemption",
    # Members registered at the counter, with the consents they state; their points.
    "members.view_consent", "members.add_consent", "members.view_pointsentry",
    "members.view_tier",
    # Try-ons, transfers and reservations of their own stores (the admin scopes by store).
    "stores.view_appointment", "stores.change_appointment", "stores.view_appointmentitem",
    "stores.view_appointmentevent", "stores.view_appointmentemail",
    "stores.view_transfer", "stores.change_transfer", "stores.view_transferline",
    "stores.view_transferevent", "stores.view_reservation", "stores.view_specialhours",
    "stores.view_stockcount",
]

# Surveys and feedback (feedback app): what each role sees; store roles see their own
# stores only (feedback.selectors.feedback_store_ids), "stores.view_all_stores" sees them all.
_FEEDBACK_READ = [
    "feedback.view_survey", "feedback.view_surveyversion", "feedback.view_question",
    "feedback.view_surveyresponse", "feedback.view_answer", "feedback.view_feedbackcase",
    "feedback.view_feedbackcaseevent", "feedback.view_surveyinvitation",
]
_SURVEY_EDIT = [
    "feedback.add_survey", "feedback.change_survey", "feedback.add_surveyversion",
    "feedback.change_surveyversion", "feedback.add_question", "feedback.change_question",
    "feedback.delete_question", "feedback.view_choice", "feedback.add_choice",
    "feedback.change_choice", "feedback.delete_choice",
]
_EVERY_STORE = ["stores.view_all_stores", "feedback.view_answers_export"]

ROLES: dict[str, list[str]] = {
    # Sells at the counter, hands over pickups, checks in try-ons, in its own stores.
    STORE_STAFF: _CATALOG_READ + _STORE_FLOOR + _FEEDBACK_READ,
    # Everything staff do, plus stock, opening hours and the store team.
    STORE_MANAGER: _CATALOG_READ + _STORE_FLOOR + _FEEDBACK_READ + [
        "stores.change_store", "stores.add_openinghours", "stores.change_openinghours",
        "stores.delete_openinghours", "stores.change_stocklevel",
        "stores.add_specialhours", "stores.change_specialhours", "stores.delete_specialhours",
        "stores.add_transfer", "stores.change_reservation", "stores.add_stockcount",
        "stores.view_stockcountline",
        "stores.view_staffassignment",
        "catalog.add_metalrate",
        # Full mobile numbers and birthdays of members (others see them masked), and
        # points corrections with a reason (goodwill, a mistake at the counter).
        "members.view_contact", "members.add_pointsentry",
        # Their stores' feedback cases: owner, notes, outcome (a coupon as compensation);
        # exports of their stores' answers.
        "feedback.change_feedbackcase", "feedback.view_answers_export",
        # Their stores' dashboards (the week against last week and last year, stock and
        # slow movers, staff); analytics scopes every figure to their stores.
        "analytics.view_dashboard",
    ],
    # Coupons and campaigns; reads members (masked) and the catalog; the whole chain's
    # dashboards (members, funnels, places).
    MARKETER: _CATALOG_READ + [
        "members.view_coupondefinition", "members.add_coupondefinition",
        "members.change_coupondefinition", "members.view_coupon",
        "members.add_coupon", "members.change_coupon",
        "members.view_couponbatch", "members.add_couponbatch", "members.view_redemption",
        "members.view_memberprofile", "members.view_tier", "members.view_consent",
        "analytics.view_dashboard",
        # Segments and campaigns (marketing), their history and reaches.
        "marketing.view_segment", "marketing.add_segment", "marketing.change_segment",
        "marketing.view_campaign", "marketing.add_campaign", "marketing.change_campaign",
        "marketing.view_campaignevent", "marketing.view_touch",
        # Journeys: the marketers configure them (steps, versions, who is in them).
        "journeys.view_journey", "journeys.add_journey", "journeys.change_journey",
        "journeys.view_journeystep", "journeys.add_journeystep",
        "journeys.change_journeystep", "journeys.delete_journeystep",
        "journeys.view_journeyversion", "journeys.view_journeyenrolment",
        "journeys.view_goldpricealert",
    ] + _FEEDBACK_READ + _SURVEY_EDIT + _EVERY_STORE,
    # Reads everything that describes the business, in every store; changes nothing.
    # Without stores.view_all_stores the store-scoped screens showed them no store at all
    # (they work at none), so no orders either.
    ANALYST: _CATALOG_READ + [
        "stores.view_all_stores", "analytics.view_dashboard",
        "analytics.view_event", "orders.view_order", "orders.view_orderline",
        "orders.view_payment", "orders.view_orderevent", "orders.view_serviceticket",
        "stores.view_store", "stores.view_stocklevel", "members.view_coupondefinition",
        "members.view_coupon", "stores.view_appointment", "stores.view_transfer",
        "stores.view_transferline", "stores.view_stockcount", "members.view_redemption",
        "members.view_tier", "members.view_pointsentry", "members.view_memberprofile",
    ] + _FEEDBACK_READ + _EVERY_STORE,
    # Head office's customer care: surveys, every store's answers and cases (overdue
    # cases are escalated to them, feedback.services.cases), the chain's dashboards.
    HEAD_OFFICE: _CATALOG_READ + _FEEDBACK_READ + _SURVEY_EDIT + _EVERY_STORE + [
        "feedback.change_feedbackcase", "stores.view_store", "orders.view_order",
        "orders.view_orderline", "stores.view_appointment", "members.view_contact",
        "members.view_coupondefinition", "members.view_coupon",
        "analytics.view_dashboard",
    ],
}


def roles_sync(apps, schema_editor=None) -> None:
    """Create the groups and set their permissions to exactly ROLES (idempotent)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # A migration's historical app configs have no models_module, and
        # create_permissions skips those; lend one and give it back.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted += Permission.objects.filter(content_type__app_label=app_label,
                                                codename=codename)
        group.permissions.set(wanted)
