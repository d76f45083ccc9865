"""Helpers for migrations that move a model from one app to another without touching its
rows (a state-only move: ``SeparateDatabaseAndState``)."""


def content_types_relabel(apps, *, models: list[str], old: str, new: str) -> None:
    """Give the content types of ``models`` (lower-case model names) the app label ``new``,
    so their permissions (and the groups holding them) and admin log entries follow the
    move. Where the new content type exists already (made by a later post_migrate), the old
    one is left for ``remove_stale_contenttypes``."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def relabeller(*, models: list[str], old: str, new: str):
    """A RunPython pair (forwards, backwards) for ``content_types_relabel``."""

    def forwards(apps, schema_editor):
        content_types_relabel(apps, models=models, old=old, new=new)

    def backwards(apps, schema_editor):
        content_types_relabel(apps, models=models, old=new, new=old)

    return forwards, backwards
