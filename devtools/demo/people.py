"""Writes the demo's people: staff logins with their roles and stores, and ~300 members.

Staff and the demo shopper log in with settings.DEMO_PASSWORD. Bulk members get
unusable passwords (they exist to be marketed to and to have bought things);
they are created in two bulk INSERTs, skipping any phone already present.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from members import roles
from members.models import Channel, Gender, MemberProfile, User
from stores.models import StaffAssignment, StaffRole, Store

DEMO_MEMBER_EMAIL = "member@o2o.example"
DEMO_MEMBER_PHONE = "+8613800138000"


@dataclass(frozen=True)
class StaffSpec:
    email: str
    name: str
    superuser: bool = False
    group: str = ""
    store: str = ""  # store code
    role: str = StaffRole.STAFF


STAFF: list[StaffSpec] = [
    StaffSpec("admin@o2o.example", "系统管理员", superuser=True),
    StaffSpec("manager@o2o.example", "王静（店长）", group=roles.STORE_MANAGER, store="sh-njxl",
              role=StaffRole.MANAGER),
    StaffSpec("staff@o2o.example", "陈晓雯", group=roles.STORE_STAFF, store="sh-njxl"),
    StaffSpec("staff.beijing@o2o.example", "刘洋", group=roles.STORE_STAFF, store="bj-guomao"),
    # Not in the brief's list, but every store's counter sales need a salesperson.
    StaffSpec("staff.shenzhen@o2o.example", "黄嘉欣", group=roles.STORE_STAFF, store="sz-mixc"),
    StaffSpec("staff.chengdu@o2o.example", "杨雪", group=roles.STORE_STAFF, store="cd-taikooli"),
    StaffSpec("marketer@o2o.example", "周敏", group=roles.MARKETER),
    StaffSpec("analyst@o2o.example", "赵磊", group=roles.ANALYST),
]

# Common surnames with their pinyin (for e-mail handles) and a rough frequency weight.
SURNAMES: list[tuple[str, str, int]] = [
    ("王", "wang", 72), ("李", "li", 71), ("张", "zhang", 69), ("刘", "liu", 53), ("陈", "chen", 46),
    ("杨", "yang", 32), ("黄", "huang", 24), ("赵", "zhao", 20), ("吴", "wu", 19), ("周", "zhou", 19),
    ("徐", "xu", 13), ("孙", "sun", 12), ("马", "ma", 12), ("朱", "zhu", 11), ("胡", "hu", 10),
    ("郭", "guo", 10), ("何", "he", 9), ("林", "lin", 9), ("高", "gao", 9), ("罗", "luo", 8),
    ("郑", "zheng", 8), ("梁", "liang", 7), ("谢", "xie", 6), ("宋", "song", 6), ("唐", "tang", 6),
    ("许", "xu", 5), ("韩", "han", 5), ("邓", "deng", 5), ("冯", "feng", 5), ("曹", "cao", 5),
    ("彭", "peng", 5), ("曾", "zeng", 4), ("肖", "xiao", 4), ("田", "tian", 4), ("董", "dong", 4),
    ("潘", "pan", 3), ("袁", "yuan", 3), ("蔡", "cai", 3), ("蒋", "jiang", 3), ("余", "yu", 3),
    ("叶", "ye", 3), ("程", "cheng", 3), ("苏", "su", 3), ("魏", "wei", 3), ("吕", "lv", 3),
    ("沈", "shen", 2), ("姚", "yao", 2), ("卢", "lu", 2), ("钟", "zhong", 2), ("陆", "lu", 2),
    ("欧阳", "ouyang", 1), ("上官", "shangguan", 1),
]
GIVEN_FEMALE = "婷静敏丽娜芳雪琳欣怡佳雯颖晶倩萍璐瑶琪悦涵思梦诗雨晓慧洁蕾薇晴岚月如嘉宁"
GIVEN_MALE = "伟强磊军洋勇杰涛明超浩宇鹏辉斌峰健俊博凯晨轩睿哲昊文志建华平毅然"
# Mainland mobile prefixes (China Mobile, Unicom, Telecom).
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "176", "177", "180", "181",
                   "182", "183", "185", "186", "187", "188", "189", "199")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # reserved: no mail goes anywhere


def staff_load(*, stores: dict[str, Store]) -> dict[str, User]:
    """The staff logins, their groups and store assignments. Existing users keep their password."""
    users: dict[str, User] = {}
    for spec in STAFF:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            if spec.superuser:
                user = User.objects.create_superuser(spec.email, settings.DEMO_PASSWORD,
                                                     name=spec.name)
            else:
                user = User.objects.create_user(spec.email, settings.DEMO_PASSWORD,
                                                name=spec.name, is_staff=True)
        if spec.group:
            user.groups.add(Group.objects.get(name=spec.group))
        if spec.store:
            StaffAssignment.objects.get_or_create(user=user, store=stores[spec.store],
                                                  defaults={"role": spec.role})
        users[spec.email] = user
    return users


@transaction.atomic
def demo_shopper_load() -> User:
    """林小姐, the shopper the demo logs in as (phone +8613800138000)."""
    user = User.objects.filter(phone=DEMO_MEMBER_PHONE).first()
    if user is None:
        user = User.objects.create_user(DEMO_MEMBER_EMAIL, settings.DEMO_PASSWORD,
                                        phone=DEMO_MEMBER_PHONE, phone_verified=True, name="林小姐")
    MemberProfile.objects.get_or_create(user=user, defaults={
        "gender": Gender.FEMALE, "birthday": date(1994, 6, 18),
        "anniversary": date(2021, 5, 20), "ring_size": "12",
        "registered_channel": Channel.ONLINE,
    })
    return user


@dataclass(frozen=True)
class MemberSpec:
    phone: str
    name: str
    email: str | None
    gender: str
    birthday: date
    anniversary: date | None
    ring_size: str
    channel: str
    joined_days_ago: int
    language: str


def member_specs(*, count: int, today: date) -> list[MemberSpec]:
    """``count`` members, the same ones on every run (seeded), with unique valid mobiles."""
    rng = random.Random("2026:members")
    surnames = [s for s, _p, _w in SURNAMES]
    weights = [w for _s, _p, w in SURNAMES]
    pinyin = {s: p for s, p, _w in SURNAMES}
    phones = {DEMO_MEMBER_PHONE}
    specs = []
    for i in range(count):
        female = rng.random() < 0.72  # most of a jeweller's members are women
        surname = rng.choices(surnames, weights)[0]
        chars = GIVEN_FEMALE if female else GIVEN_MALE
        given = "".join(rng.choice(chars) for _ in range(1 if rng.random() < 0.3 else 2))
        phone = DEMO_MEMBER_PHONE
        while phone in phones:
            phone = "+86" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        phones.add(phone)
        age = rng.randint(20, 62)
        birthday = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        anniversary = None
        if age >= 25 and rng.random() < 0.35:
            anniversary = date(today.year - rng.randint(1, min(30, age - 22)), rng.randint(1, 12),
                               rng.randint(1, 28))
        email = None
        if rng.random() < 0.4:
            email = f"{pinyin[surname]}.{i:03d}{rng.randint(10, 99)}@{rng.choice(EMAIL_DOMAINS)}"
        ring_size = ""
        if rng.random() < 0.45:
            ring_size = str(rng.randint(8, 16) if female else rng.randint(16, 24))
        specs.append(MemberSpec(
            phone=phone, name=surname + given, email=email,
            gender=Gender.FEMALE if female else (Gender.MALE if rng.random() < 0.95 else Gender.UNDISCLOSED),
            birthday=birthday, anniversary=anniversary, ring_size=ring_size,
            channel=Channel.STORE if rng.random() < 0.5 else Channel.ONLINE,
            joined_days_ago=rng.randint(0, 720), language="en" if rng.random() < 0.05 else "zh-hans",
        ))
    return specs


@transaction.atomic
def members_load(*, count: int, now: datetime) -> list[User]:
    """The bulk members (created only where the phone is new), each with a profile.

    Returns every demo member, in the seeded order, for the order history.
    """
    specs = member_specs(count=count, today=timezone.localdate(now))
    existing = set(User.objects.filter(phone__in=[s.phone for s in specs])
                   .values_list("phone", flat=True))
    new_users = []
    for spec in specs:
        if spec.phone in existing:
            continue
        user = User(email=spec.email, phone=spec.phone, phone_verified=True, name=spec.name,
                    language=spec.language, date_joined=now - timedelta(days=spec.joined_days_ago))
        user.set_unusable_password()
        new_users.append(user)
    User.objects.bulk_create(new_users)

    by_phone = {u.phone: u for u in User.objects.filter(phone__in=[s.phone for s in specs])}
    with_profile = set(MemberProfile.objects.filter(user__in=by_phone.values())
                       .values_list("user_id", flat=True))
    MemberProfile.objects.bulk_create([
        MemberProfile(user=by_phone[s.phone], gender=s.gender, birthday=s.birthday,
                      anniversary=s.anniversary, ring_size=s.ring_size, registered_channel=s.channel)
        for s in specs if by_phone[s.phone].pk not in with_profile
    ])
    return [by_phone[s.phone] for s in specs]
