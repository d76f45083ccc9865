from marketing.models import Campaign, Segment

TEXTS = {
    "email_subject": {"zh-hans": "{name}，生日快乐", "en": "Happy birthday, {name}"},
    "email_body": {"zh-hans": "送您 {coupon_value}，券码 {coupon_code}。{link}"},
    "sms_text": {"zh-hans": "【金缘】生日券{coupon_code}已到账"},
    "inbox_title": {"zh-hans": "生日礼券"},
    "inbox_body": {"zh-hans": "{coupon_value}"},
}


def segment(rules=None, name=None):
    return Segment.objects.create(name=name or f"seg-{Segment.objects.count() + 1}",
                                  rules=rules or {})


def campaign(*, rules=None, **fields):
    values = {"name": "生日季", "segment": fields.pop("segment", None) or segment(rules),
              "send_email": True, "send_sms": False, "send_inbox": True, "link": "/products/",
              **TEXTS, **fields}
    return Campaign.objects.create(**values)
