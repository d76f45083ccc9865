"""Saving a segment: the rules checked first (SegmentInvalid), the row written."""

from __future__ import annotations

from django.db import transaction

from members.models import User

from ..models import Segment
from .segments import segment_rules_clean


@transaction.atomic
def segment_save(*, segment: Segment, rules: dict, actor: User | None) -> Segment:
    segment.rules = segment_rules_clean(rules)
    if segment.pk is None:
        segment.created_by = actor
    segment.save()
    return segment
