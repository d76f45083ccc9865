"""Audit rows of campaigns: one writer, called inside the service's transaction."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from members.models import User

from .models import Campaign, CampaignEvent, CampaignEventKind


def campaign_event(*, campaign: Campaign, kind: CampaignEventKind, actor: User | None = None,
                   note: str = "", at: datetime | None = None) -> CampaignEvent:
    return CampaignEvent.objects.create(campaign=campaign, kind=kind, actor=actor,
                                        note=str(note)[:300], at=at or timezone.now())
