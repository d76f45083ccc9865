"""Every kind of every audit trail is said in words, in both languages (never the code)."""

import re

import pytest
from django.utils import translation

from orders.models import OrderEvent, OrderEventKind
from stores.models import (
    AppointmentEvent,
    AppointmentEventKind,
    TransferEvent,
    TransferEventKind,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
SAMPLE = {"from": "paid", "to": "ready_for_pickup", "via": "pickup desk", "amount": "5000",
          "reason": "", "status": "completed", "outcome": "bought", "order_reference": "O1",
          "skus": ["R-1"], "lines": [["R-1", 1]], "before": "2026-12-07T10:00:00+08:00",
          "after": "2026-12-08T10:00:00+08:00", "order": "O1", "stock_from": "SH01"}


@pytest.mark.parametrize("model, kinds", [
    (OrderEvent, OrderEventKind), (AppointmentEvent, AppointmentEventKind),
    (TransferEvent, TransferEventKind)])
def test_each_kind_reads_as_a_sentence_in_both_languages(model, kinds):
    for kind in kinds:
        event = model(kind=kind, data=SAMPLE)
        with translation.override("zh-hans"):
            chinese = event.describe()
        with translation.override("en"):
            english = event.describe()
        assert CJK.search(chinese), (kind, chinese)
        assert kind.value not in chinese or "_" not in kind.value, (kind, chinese)
        assert "{" not in chinese and "{" not in english
        assert english and not CJK.search(english.replace("SH01", "")), (kind, english)
