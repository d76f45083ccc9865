"""The demo catalogue as data: categories, collections and ~150 pieces of a Chinese jeweller.

Pure data and small builders, no database: ``catalog.py`` writes it. Every
product has a stable slug and SKUs, the natural keys that make the loader
idempotent. Prices are 2026 retail in yuan; by-weight pieces follow the day's
metal rate (see ``metal_rate_for``).
"""

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.text import slugify

from .images import Look

# (slug, name, name_en, parent slug or None, position)
CATEGORIES: list[tuple[str, str, str, str | None, int]] = [
    ("rings", "戒指", "Rings", None, 1),
    ("diamond-rings", "钻石戒指", "Diamond rings", "rings", 1),
    ("wedding-bands", "婚戒", "Wedding bands", "rings", 2),
    ("gold-rings", "黄金戒指", "Gold rings", "rings", 3),
    ("necklaces", "项链", "Necklaces", None, 2),
    ("earrings", "耳饰", "Earrings", None, 3),
    ("bracelets", "手镯手链", "Bracelets & bangles", None, 4),
    ("pendants", "吊坠", "Pendants", None, 5),
]

# (slug, name, name_en, kind, description, description_en)
COLLECTIONS: list[tuple[str, str, str, str, str, str]] = [
    ("basic", "经典", "Basic", "basic",
     "日常百搭的经典款，素金与简约设计，适合每一天。",
     "Everyday classics: plain metal and simple lines for every day."),
    ("bestsellers", "畅销", "Bestsellers", "bestseller",
     "门店与线上最受欢迎的款式。",
     "The pieces our stores and our online shop sell most."),
    ("limited", "限量", "Limited edition", "limited",
     "限量与孤品，售完即止。",
     "Limited runs and one-of-a-kind pieces, gone when they are sold."),
    ("bridal", "婚嫁", "Bridal", "custom",
     "求婚钻戒、对戒与三金，陪伴人生重要时刻。",
     "Engagement rings, wedding bands and bridal gold for the day that matters."),
    ("heritage-gold", "国潮古法金", "Heritage gold", "custom",
     "古法手工锤揲、錾刻，哑光质感，东方吉祥纹样。",
     "Hand-hammered and chased gold with a matte finish and auspicious Chinese motifs."),
]

WOMEN_RING_SIZES = ("10", "12", "14", "16")
MEN_RING_SIZES = ("18", "20", "22")
CHAIN_LENGTHS = ("40cm", "45cm")

SKU_PREFIX = {"diamond-rings": "R", "wedding-bands": "R", "gold-rings": "R",
              "necklaces": "N", "earrings": "E", "bracelets": "B", "pendants": "P"}

# Metal rates: the reference price per gram; the day's rate drifts around it.
RATE_BASES: dict[tuple[str, str], Decimal] = {
    ("gold", "999"): Decimal("780.00"),
    ("gold", "750"): Decimal("585.00"),
    ("platinum", "950"): Decimal("330.00"),
    ("silver", "925"): Decimal("8.00"),
}


def metal_rate_for(*, metal: str, purity: str, day: date) -> Decimal:
    """The demo's rate of a metal on ``day``: the same number whenever the demo is loaded.

    A slow seasonal swing (+-4 %) plus a small daily wobble, both functions of
    the date alone, so a re-run finds the same rows instead of new ones.
    """
    base = RATE_BASES[(metal, purity)]
    # Crosses the reference rising in late November 2026: the demo's history
    # shows gold climbing over the months before (as it did in 2025-26).
    season = 0.03 * math.sin(2 * math.pi * (day - date(2026, 11, 20)).days / 365.0)
    seed = int(hashlib.sha256(f"{metal}{purity}{day.isoformat()}".encode()).hexdigest()[:8], 16)
    wobble = (seed % 1000 - 500) / 500 * 0.006
    rate = base * Decimal(str(round(1 + season + wobble, 5)))
    return rate.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Fixed:
    price: int


@dataclass(frozen=True)
class ByWeight:
    metal: str
    purity: str
    weight_g: Decimal
    labour_fee: int


@dataclass(frozen=True)
class Stone:
    """The main stone(s) of each variant; ``certified`` solitaires get a lab report."""

    carat: Decimal  # per piece: the solitaire's weight, or all small stones together
    count: int = 1
    certified: bool = True


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    name: str
    name_en: str
    category: str
    material: str
    gemstone: str
    style: str
    audience: str
    tags: tuple[str, ...]
    collections: tuple[str, ...]
    description: str
    description_en: str
    pricing: Fixed | ByWeight
    sizes: tuple[str, ...] = ()
    stone: Stone | None = None
    unique: bool = False  # one of a kind: one variant, one piece, one store
    look: Look = field(default_factory=lambda: Look("ring"))
    photos: int = 1


_SPEC_FIELDS = set(ProductSpec.__dataclass_fields__) - {"slug"}


def _piece(**fields) -> dict:
    """One product's fields, checked against ProductSpec as the table is built (typos fail
    at import), with the usual defaults."""
    unknown = set(fields) - _SPEC_FIELDS
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    fields.setdefault("audience", "women")
    return fields


def _w(grams: str) -> Decimal:
    return Decimal(grams)


def _gold(grams: str, labour: int) -> ByWeight:
    return ByWeight("gold", "999", _w(grams), labour)


def _k18(grams: str, labour: int) -> ByWeight:
    return ByWeight("gold", "750", _w(grams), labour)


def _pt(grams: str, labour: int) -> ByWeight:
    return ByWeight("platinum", "950", _w(grams), labour)


# --- rings ---------------------------------------------------------------------------

def _diamond_rings() -> list[dict]:
    items = []
    solitaires = [
        # zh setting, en setting, metal look, carats with prices, tags
        ("铂金六爪", "Platinum six-prong", "white", [("0.30", 9800), ("0.50", 21800), ("1.00", 69800)]),
        ("18K金四爪", "18K gold four-prong", "gold", [("0.30", 8800), ("0.50", 19800)]),
        ("铂金光环", "Platinum halo", "white", [("0.40", 15800), ("0.70", 35800)]),
    ]
    for zh, en, tone, carats in solitaires:
        for ct, price in carats:
            points = int(Decimal(ct) * 100)
            zh_ct = "1克拉" if ct == "1.00" else f"{points}分"
            items.append(_piece(
                name=f"{zh}钻石戒指 {zh_ct}", name_en=f"{en} diamond solitaire ring {ct} ct",
                material="diamond", gemstone="diamond", style="solitaire",
                tags=("求婚", "钻戒", "婚嫁"), collections=("bridal",) + (("bestsellers",) if ct == "0.30" else ()),
                description=f"{zh}镶嵌一颗{zh_ct}圆形明亮式切工钻石，附权威证书，求婚与纪念的经典之选。",
                description_en=f"A {ct} ct round brilliant in a {en.lower()} setting, certified: the classic proposal ring.",
                pricing=Fixed(price), sizes=WOMEN_RING_SIZES[:3], stone=Stone(Decimal(ct)),
                look=Look("ring", tone, "diamond"), photos=2,
            ))
    singles = [
        ("18K玫瑰金心形钻石戒指", "18K rose gold heart diamond ring", "rose", "0.50", 22800, "heart"),
        ("铂金公主方钻石戒指", "Platinum princess-cut diamond ring", "white", "0.60", 28800, "princess"),
        ("18K金椭圆钻石戒指", "18K gold oval diamond ring", "gold", "0.80", 45800, "oval"),
    ]
    for zh, en, tone, ct, price, cut in singles:
        items.append(_piece(
            name=zh, name_en=en, material="diamond", gemstone="diamond", style=cut,
            tags=("钻戒", "轻奢"), collections=("bridal",),
            description=f"{ct}克拉主石，异形切工更显个性，附证书。",
            description_en=f"A {ct} ct centre stone in a distinctive {cut} cut, certified.",
            pricing=Fixed(price), sizes=WOMEN_RING_SIZES[:3], stone=Stone(Decimal(ct)),
            look=Look("ring", tone, "diamond"),
        ))
    items += [
        _piece(name="18K金排钻戒指", name_en="18K gold pavé diamond band", material="diamond",
             gemstone="diamond", style="pave", tags=("叠戴", "日常"), collections=("bestsellers",),
             description="十五颗小钻排镶，单戴精致，叠戴更出彩。",
             description_en="Fifteen small diamonds set in a row: fine alone, better stacked.",
             pricing=Fixed(5980), sizes=WOMEN_RING_SIZES,
             stone=Stone(Decimal("0.30"), 15, certified=False), look=Look("ring", "gold", "diamond", "pave")),
        _piece(name="铂金群镶钻石戒指", name_en="Platinum cluster diamond ring", material="diamond",
             gemstone="diamond", style="cluster", tags=("钻戒", "显钻"), collections=(),
             description="七颗钻石群镶成花，35分的价格呈现一克拉的视觉。",
             description_en="Seven diamonds set as a flower: the look of a carat at a fraction of it.",
             pricing=Fixed(7980), sizes=WOMEN_RING_SIZES[:3],
             stone=Stone(Decimal("0.35"), 7, certified=False), look=Look("ring", "white", "diamond")),
        _piece(name="18K金红宝石钻石戒指", name_en="18K gold ruby and diamond ring", material="k18",
             gemstone="ruby", style="halo", tags=("彩宝", "轻奢"), collections=("limited",),
             description="鸽血红色调红宝石，碎钻围镶，热烈而优雅。",
             description_en="A pigeon-blood-toned ruby framed with small diamonds.",
             pricing=Fixed(16800), sizes=WOMEN_RING_SIZES[:3],
             stone=Stone(Decimal("0.80"), 1, certified=False), look=Look("ring", "gold", "ruby")),
        _piece(name="铂金蓝宝石钻石戒指", name_en="Platinum sapphire and diamond ring", material="platinum",
             gemstone="sapphire", style="halo", tags=("彩宝", "轻奢"), collections=(),
             description="矢车菊蓝宝石配铂金，沉静高贵。",
             description_en="A cornflower-blue sapphire set in platinum, calm and noble.",
             pricing=Fixed(14800), sizes=WOMEN_RING_SIZES[:3],
             stone=Stone(Decimal("0.90"), 1, certified=False), look=Look("ring", "white", "sapphire")),
    ]
    one_offs = [
        ("铂金祖母绿切割钻石戒指 2.01克拉", "Platinum emerald-cut diamond ring 2.01 ct", "2.01", 268000),
        ("18K金枕形钻石戒指 1.51克拉", "18K gold cushion-cut diamond ring 1.51 ct", "1.51", 158000),
        ("铂金梨形钻石戒指 1.20克拉", "Platinum pear-shaped diamond ring 1.20 ct", "1.20", 118000),
        ("铂金六爪钻石戒指 1.50克拉 典藏", "Platinum six-prong solitaire 1.50 ct, signature", "1.50", 198000),
    ]
    for zh, en, ct, price in one_offs:
        tone = "gold" if zh.startswith("18K") else "white"
        items.append(_piece(
            name=zh, name_en=en, material="diamond", gemstone="diamond", style="solitaire",
            tags=("孤品", "高级珠宝", "求婚"), collections=("limited", "bridal"),
            description=f"孤品，仅此一件：{ct}克拉主石，GIA证书，可预约到店鉴赏。",
            description_en=f"One of a kind: a {ct} ct GIA-certified stone. Book a viewing in store.",
            pricing=Fixed(price), sizes=("12",), stone=Stone(Decimal(ct)), unique=True,
            look=Look("ring", tone, "diamond"), photos=2,
        ))
    items.append(_piece(
        name="铂金男士方钻戒指", name_en="Men's platinum diamond signet ring", material="diamond",
        gemstone="diamond", style="signet", audience="men", tags=("男士", "钻石"), collections=(),
        description="宽版铂金戒面嵌一颗30分钻石，沉稳大气。",
        description_en="A broad platinum face with a 0.30 ct diamond: understated and strong.",
        pricing=Fixed(12800), sizes=MEN_RING_SIZES, stone=Stone(Decimal("0.30")),
        look=Look("ring", "white", "diamond"),
    ))
    for item in items:
        item["category"] = "diamond-rings"
    return items


def _wedding_bands() -> list[dict]:
    items = []
    pairs = [
        ("铂金素圈婚戒", "Plain platinum wedding band", _pt, ("3.20", "4.60"), 380, "white", ""),
        ("铂金磨砂婚戒", "Brushed platinum wedding band", _pt, ("3.60", "5.20"), 480, "white", ""),
        ("18K金素圈婚戒", "Plain 18K gold wedding band", _k18, ("2.40", "3.60"), 320, "gold", ""),
        ("足金龙凤婚戒", "Dragon-and-phoenix gold wedding band", _gold, ("4.20", "5.80"), 360, "gold", ""),
        ("铂金扭臂婚戒", "Twisted platinum wedding band", _pt, ("3.40", "4.80"), 520, "white", ""),
    ]
    for zh, en, pricing, (w_f, w_m), labour, tone, stone in pairs:
        for audience, zh_side, en_side, grams, sizes in (
            ("women", "女款", "women's", w_f, WOMEN_RING_SIZES),
            ("men", "男款", "men's", w_m, MEN_RING_SIZES),
        ):
            items.append(_piece(
                name=f"{zh}（{zh_side}）", name_en=f"{en}, {en_side}",
                material="gold" if pricing is _gold else ("k18" if pricing is _k18 else "platinum"),
                gemstone=stone, style="band", audience=audience,
                tags=("对戒", "婚嫁", "按克计价"), collections=("bridal", "basic"),
                description=f"{zh}{zh_side}，按克计价，工费透明，可与另一款配成对戒。",
                description_en=f"The {en_side} {en.lower()}, priced by weight with a clear labour fee; pairs with its twin.",
                pricing=pricing(grams, labour), sizes=sizes, look=Look("bands", tone, stone),
                category="wedding-bands",
            ))
    for zh, en, tone, price, audience, sizes in (
        ("铂金单钻婚戒（女款）", "Platinum wedding band with a diamond, women's", "white", 6980, "women", WOMEN_RING_SIZES),
        ("铂金单钻婚戒（男款）", "Platinum wedding band with a diamond, men's", "white", 5980, "men", MEN_RING_SIZES),
        ("18K玫瑰金排钻婚戒", "18K rose gold pavé wedding band", "rose", 7980, "women", WOMEN_RING_SIZES),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="diamond", gemstone="diamond", style="band",
            audience=audience, tags=("对戒", "婚嫁"), collections=("bridal",),
            description="婚戒嵌入钻石，低调的闪耀，适合每天佩戴。",
            description_en="A wedding band with set diamonds: a quiet sparkle for every day.",
            pricing=Fixed(price), sizes=sizes,
            stone=Stone(Decimal("0.05") if "单钻" in zh else Decimal("0.20"),
                        1 if "单钻" in zh else 11, certified=False),
            look=Look("bands", tone, "diamond"), category="wedding-bands",
        ))
    return items


MOTIFS: list[tuple[str, str, str, str]] = [
    # zh, en, blessing zh, blessing en
    ("福字", "fu character", "福气满满", "good fortune"),
    ("如意", "ruyi", "称心如意", "everything as you wish"),
    ("祥云", "auspicious cloud", "祥瑞高照", "good omens"),
    ("莲花", "lotus", "清净和合", "purity and harmony"),
    ("竹节", "bamboo", "节节高升", "rising step by step"),
    ("回纹", "meander", "福寿绵长", "lasting blessings"),
    ("锦鲤", "koi", "好运连连", "luck upon luck"),
    ("平安", "ping'an", "岁岁平安", "peace year after year"),
    ("貔貅", "pixiu", "招财纳福", "wealth kept close"),
    ("四叶草", "four-leaf clover", "幸运相伴", "luck at your side"),
    ("蝴蝶", "butterfly", "轻盈自在", "lightness and freedom"),
    ("转运珠", "lucky bead", "时来运转", "a turn of luck"),
    ("花丝", "filigree", "非遗花丝，细密华美", "the intangible-heritage filigree craft"),
]


def _gold_rings() -> list[dict]:
    items = []
    for i, (zh, en, bless, bless_en) in enumerate(MOTIFS):
        grams = f"{3.2 + (i % 5) * 0.55:.2f}"
        items.append(_piece(
            name=f"古法金{zh}戒指", name_en=f"Heritage gold {en} ring", material="gold", gemstone="",
            style="heritage", tags=("古法金", "国潮", "按克计价", "送礼"),
            collections=("heritage-gold",) + (("bestsellers",) if i < 3 else ()),
            description=f"足金999古法工艺，{zh}纹样寓意{bless}，开口设计可微调圈口。",
            description_en=f"999 gold, hand-finished, with a {en} motif for {bless_en}; open back to adjust the fit.",
            pricing=_gold(grams, 180 + (i % 4) * 60), sizes=WOMEN_RING_SIZES,
            look=Look("ring", "gold"), category="gold-rings", photos=1 + (i % 3 == 0),
        ))
    items.append(_piece(
        name="足金男士貔貅戒指", name_en="Men's gold pixiu ring", material="gold", gemstone="",
        style="heritage", audience="men", tags=("男士", "招财", "按克计价"),
        collections=("heritage-gold",),
        description="足金999宽版戒指，貔貅立雕，招财纳福。",
        description_en="A broad 999 gold ring with a pixiu in relief, the keeper of wealth.",
        pricing=_gold("9.80", 480), sizes=MEN_RING_SIZES, look=Look("ring", "gold"),
        category="gold-rings",
    ))
    for zh, en, price in (("18K金几何戒指", "18K gold geometric ring", 2680),
                          ("18K金麻花戒指", "18K gold twisted rope ring", 2380),
                          ("18K玫瑰金编织戒指", "18K rose gold woven ring", 2980)):
        items.append(_piece(
            name=zh, name_en=en, material="k18", gemstone="", style="fashion",
            tags=("叠戴", "轻奢", "日常"), collections=("basic",),
            description="18K金一口价，轻巧百搭，适合叠戴。",
            description_en="18K gold at one price, light and easy to stack.",
            pricing=Fixed(price), sizes=WOMEN_RING_SIZES,
            look=Look("ring", "rose" if "玫瑰" in zh else "gold"), category="gold-rings",
        ))
    return items


# --- necklaces, earrings, bracelets, pendants -----------------------------------------

def _necklaces() -> list[dict]:
    items = []
    for ct, price in (("0.10", 3280), ("0.20", 5980), ("0.30", 8980)):
        points = int(Decimal(ct) * 100)
        items.append(_piece(
            name=f"18K金钻石锁骨链 {points}分", name_en=f"18K gold diamond collarbone necklace {ct} ct",
            material="diamond", gemstone="diamond", style="solitaire",
            tags=("锁骨链", "送礼", "日常"), collections=("bestsellers",) if ct == "0.10" else (),
            description=f"一颗{points}分钻石轻点锁骨，18K金细链，日常与通勤皆宜。",
            description_en=f"A single {ct} ct diamond on a fine 18K chain, right at the collarbone.",
            pricing=Fixed(price), sizes=CHAIN_LENGTHS, stone=Stone(Decimal(ct)),
            look=Look("necklace", "gold", "diamond", "drop"), photos=2,
        ))
    for zh, en, price, tone, motif, stone in (
        ("18K金四叶草项链", "18K gold four-leaf clover necklace", 3680, "gold", "clover", ""),
        ("18K金爱心项链", "18K gold heart necklace", 2980, "gold", "heart", ""),
        ("18K玫瑰金蝴蝶项链", "18K rose gold butterfly necklace", 3280, "rose", "clover", ""),
        ("18K金珍珠项链", "18K gold pearl necklace", 1980, "gold", "drop", "pearl_white"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="pearl" if stone else "k18",
            gemstone="pearl" if stone else "", style="pendant-necklace",
            tags=("送礼", "日常", "轻奢"), collections=("basic",),
            description="18K金一口价项链，吊坠与链身一体，精致耐戴。",
            description_en="An 18K gold necklace at one price, pendant and chain as one.",
            pricing=Fixed(price), sizes=CHAIN_LENGTHS, look=Look("necklace", tone, stone, motif),
        ))
    for zh, en, grams, labour in (
        ("足金O字链", "Gold O-link chain", "8.50", 220), ("足金十字链", "Gold cross-link chain", "7.80", 220),
        ("足金肖邦链", "Gold Chopin chain", "6.20", 260), ("足金水波链", "Gold wave chain", "9.40", 240),
        ("足金马鞭链", "Gold foxtail chain", "12.60", 320), ("足金蛇骨链", "Gold snake chain", "10.20", 300),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="gold", gemstone="", style="chain", audience="unisex",
            tags=("素链", "按克计价", "百搭"), collections=("basic",),
            description=f"{zh[2:]}足金999，按克计价，可单戴也可配吊坠。",
            description_en=f"A 999 gold {en[5:].lower()}, priced by weight; wear it alone or with a pendant.",
            pricing=_gold(grams, labour), sizes=CHAIN_LENGTHS, look=Look("chain", "gold"),
        ))
    for zh, en, grams in (("铂金十字链", "Platinum cross-link chain", "6.80"),
                          ("铂金O字链", "Platinum O-link chain", "7.40")):
        items.append(_piece(
            name=zh, name_en=en, material="platinum", gemstone="", style="chain", audience="unisex",
            tags=("素链", "按克计价"), collections=("basic",),
            description="Pt950铂金素链，色泽恒久，按克计价。",
            description_en="A Pt950 platinum chain that keeps its colour, priced by weight.",
            pricing=_pt(grams, 280), sizes=CHAIN_LENGTHS, look=Look("chain", "white"),
        ))
    for zh, en, price, stone in (
        ("淡水珍珠项链 7-8mm", "Freshwater pearl strand 7-8 mm", 1280, "pearl_white"),
        ("南洋白珠项链 10-11mm", "South Sea white pearl strand 10-11 mm", 26800, "pearl_white"),
        ("大溪地黑珍珠项链 9-10mm", "Tahitian black pearl strand 9-10 mm", 18800, "pearl_black"),
        ("南洋金珠项链 10-12mm", "South Sea golden pearl strand 10-12 mm", 32800, "pearl_gold"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="pearl", gemstone="pearl", style="strand",
            tags=("珍珠", "优雅", "送妈妈"), collections=("limited",) if price > 20000 else ("bestsellers",),
            description="精选圆润珍珠，光泽细腻，18K金扣头。",
            description_en="Round, lustrous pearls hand-matched on an 18K gold clasp.",
            pricing=Fixed(price), sizes=("45cm",), look=Look("necklace", "gold", stone, "strand"),
            photos=2,
        ))
    for zh, en, price, tone, stone, motif, material, gem in (
        ("铂金钻石水滴项链", "Platinum diamond drop necklace", 12800, "white", "diamond", "drop", "diamond", "diamond"),
        ("18K金群镶钻石项链", "18K gold cluster diamond necklace", 6980, "gold", "diamond", "clover", "diamond", "diamond"),
        ("翡翠蛋面项链", "Jadeite cabochon necklace", 15800, "gold", "jade_green", "oval", "jade", "jade"),
        ("和田玉路路通项链", "Hetian jade barrel-bead necklace", 2680, "gold", "jade_white", "gourd", "jade", "jade"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material=material, gemstone=gem, style="pendant-necklace",
            tags=("送礼",) + (("钻石",) if gem == "diamond" else ("玉石",)), collections=(),
            description="主石居中，18K金链，适合重要场合。",
            description_en="A centre stone on an 18K gold chain, for the occasions that matter.",
            pricing=Fixed(price), sizes=CHAIN_LENGTHS,
            stone=Stone(Decimal("0.25"), 1, certified=False) if gem == "diamond" else None,
            look=Look("necklace", tone, stone, motif),
        ))
    items += [
        _piece(name="足金男士马鞭链 粗款", name_en="Men's heavy gold foxtail chain", material="gold",
             gemstone="", style="chain", audience="men", tags=("男士", "按克计价"), collections=(),
             description="足金999粗款马鞭链，分量十足。",
             description_en="A heavy 999 gold foxtail chain with real weight to it.",
             pricing=_gold("28.00", 680), sizes=("50cm", "55cm"), look=Look("chain", "gold")),
        _piece(name="18K金钻石字母项链", name_en="18K gold diamond initial necklace", material="diamond",
             gemstone="diamond", style="initial", tags=("定制感", "送礼"), collections=("bestsellers",),
             description="字母吊坠镶小钻，送给特别的TA。",
             description_en="An initial set with small diamonds, for someone special.",
             pricing=Fixed(2980), sizes=CHAIN_LENGTHS, stone=Stone(Decimal("0.05"), 8, certified=False),
             look=Look("necklace", "gold", "diamond", "plaque")),
        _piece(name="S925银四叶草项链", name_en="Sterling silver four-leaf clover necklace", material="silver",
             gemstone="", style="pendant-necklace", tags=("银饰", "学生", "送礼"), collections=("basic",),
             description="S925银镀铂金，入门好礼。",
             description_en="Platinum-plated sterling silver: a first gift that lasts.",
             pricing=Fixed(399), sizes=CHAIN_LENGTHS, look=Look("necklace", "white", "", "clover")),
    ]
    for item in items:
        item["category"] = "necklaces"
    return items


def _earrings() -> list[dict]:
    items = []
    for zh, en, price, stone, shape in (
        ("南洋金珠耳钉", "South Sea golden pearl studs", 4680, "pearl_gold", "studs"),
        ("淡水珍珠耳钉", "Freshwater pearl studs", 680, "pearl_white", "studs"),
        ("Akoya海水珍珠耳钉", "Akoya pearl studs", 1880, "pearl_white", "studs"),
        ("大溪地黑珍珠耳坠", "Tahitian black pearl drop earrings", 3680, "pearl_black", "drops"),
        ("珍珠流苏耳坠", "Pearl tassel earrings", 1280, "pearl_white", "drops"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="pearl", gemstone="pearl", style=shape,
            tags=("珍珠", "通勤", "送礼"), collections=("bestsellers",) if price < 2000 else (),
            description="18K金耳针，珍珠圆润有光泽，日常通勤的优雅之选。",
            description_en="Lustrous pearls on 18K gold posts: effortless elegance for work and weekend.",
            pricing=Fixed(price), look=Look(shape, "gold", stone, "drop"),
        ))
    for zh, en, price, ct, tone, shape in (
        ("铂金钻石耳钉 30分", "Platinum diamond studs 0.30 ct total", 7980, "0.30", "white", "studs"),
        ("铂金钻石耳钉 50分", "Platinum diamond studs 0.50 ct total", 13800, "0.50", "white", "studs"),
        ("18K金钻石耳钉 20分", "18K gold diamond studs 0.20 ct total", 4980, "0.20", "gold", "studs"),
        ("18K金钻石耳线", "18K gold diamond threader earrings", 3580, "0.10", "gold", "drops"),
        ("18K金光环钻石耳钉", "18K gold halo diamond studs", 6580, "0.36", "gold", "studs"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="diamond", gemstone="diamond", style=shape,
            tags=("钻石", "送礼"), collections=("basic",) if ct == "0.20" else (),
            description="一对钻石耳钉，经典四爪镶，简约而闪耀。",
            description_en="A pair of diamond earrings in a classic setting, simple and bright.",
            pricing=Fixed(price), stone=Stone(Decimal(ct), 2, certified=False),
            look=Look(shape, tone, "diamond", "drop"),
        ))
    for zh, en, price, tone in (("18K金圆圈耳环", "18K gold hoop earrings", 2280, "gold"),
                                ("18K玫瑰金耳环", "18K rose gold hoop earrings", 2180, "rose"),
                                ("18K金几何耳坠", "18K gold geometric drop earrings", 2580, "gold")):
        items.append(_piece(
            name=zh, name_en=en, material="k18", gemstone="", style="hoops",
            tags=("轻奢", "日常"), collections=("basic",),
            description="18K金一口价，轻盈不压耳。",
            description_en="18K gold at one price, light on the ear.",
            pricing=Fixed(price), look=Look("hoops" if "耳环" in zh else "drops", tone, "", "plaque"),
        ))
    for i, (zh, en, bless, bless_en) in enumerate(MOTIFS[:5]):
        shape = "studs" if i % 2 == 0 else "drops"
        kind_zh, kind_en = ("耳钉", "studs") if shape == "studs" else ("耳坠", "drop earrings")
        items.append(_piece(
            name=f"古法金{zh}{kind_zh}", name_en=f"Heritage gold {en} {kind_en}", material="gold",
            gemstone="", style="heritage", tags=("古法金", "国潮", "按克计价"),
            collections=("heritage-gold",),
            description=f"足金999，{zh}纹样寓意{bless}，小巧耐看。",
            description_en=f"999 gold with a {en} motif for {bless_en}; small and easy to love.",
            pricing=_gold(f"{1.6 + i * 0.3:.2f}", 160 + i * 20),
            look=Look(shape, "gold", "", "medallion" if i % 2 else "plaque"),
        ))
    for zh, en, price, stone in (("翡翠冰种耳钉", "Icy jadeite studs", 3980, "jade_green"),
                                 ("和田玉耳坠", "Hetian jade drop earrings", 1680, "jade_white")):
        items.append(_piece(
            name=zh, name_en=en, material="jade", gemstone="jade", style="studs",
            tags=("玉石", "国潮"), collections=(),
            description="天然玉石配18K金，温润雅致。",
            description_en="Natural jade with 18K gold, soft and refined.",
            pricing=Fixed(price), look=Look("drops", "gold", stone, "oval"),
        ))
    items.append(_piece(
        name="18K金红宝石耳钉", name_en="18K gold ruby studs", material="k18", gemstone="ruby",
        style="studs", tags=("彩宝", "送礼"), collections=(),
        description="红宝石耳钉，热烈的一抹红。", description_en="Ruby studs: a bright touch of red.",
        pricing=Fixed(5680), look=Look("studs", "gold", "ruby"),
    ))
    items += [
        _piece(name="足金小金豆耳钉", name_en="Gold bean studs", material="gold", gemstone="",
             style="studs", tags=("按克计价", "日常", "学生"), collections=("basic",),
             description="圆润小金豆，足金999，按克计价。",
             description_en="Round little beans of 999 gold, priced by weight.",
             pricing=_gold("1.10", 120), look=Look("studs", "gold", "pearl_gold")),
        _piece(name="18K金珍珠耳线", name_en="18K gold pearl threader earrings", material="pearl",
             gemstone="pearl", style="drops", tags=("珍珠", "通勤"), collections=(),
             description="细长耳线缀一颗淡水珍珠，修饰脸型。",
             description_en="A long fine threader with one freshwater pearl.",
             pricing=Fixed(980), look=Look("drops", "gold", "pearl_white", "drop")),
        _piece(name="S925银珍珠耳钉", name_en="Sterling silver pearl studs", material="silver",
             gemstone="pearl", style="studs", tags=("银饰", "学生"), collections=(),
             description="S925银耳针，淡水珍珠，亲民之选。",
             description_en="Freshwater pearls on sterling silver posts, easy on the budget.",
             pricing=Fixed(299), look=Look("studs", "white", "pearl_white")),
    ]
    for item in items:
        item["category"] = "earrings"
    return items


def _bracelets() -> list[dict]:
    items = []
    bangle_motifs = MOTIFS[:6] + [("龙凤", "dragon-and-phoenix", "龙凤呈祥", "a blessed union"),
                                  ("花丝", "filigree", "非遗花丝，细密华美", "a heritage craft"),
                                  ("素面", "plain", "返璞归真", "quiet simplicity"),
                                  ("传承", "heirloom", "代代相传", "passing down the generations")]
    for i, (zh, en, bless, bless_en) in enumerate(bangle_motifs):
        grams = f"{22 + (i * 7) % 36:.2f}"
        items.append(_piece(
            name=f"古法金{zh}手镯", name_en=f"Heritage gold {en} bangle", material="gold",
            gemstone="", style="heritage", tags=("古法金", "国潮", "按克计价", "婚嫁" if zh == "龙凤" else "送妈妈"),
            collections=("heritage-gold",) + (("bridal",) if zh == "龙凤" else ())
            + (("bestsellers",) if zh == "福字" else ()),
            description=f"足金999古法锤揲，{zh}纹样寓意{bless}，哑光质感，越戴越亮。",
            description_en=f"Hand-hammered 999 gold with a {en} motif for {bless_en}; the matte finish polishes with wear.",
            pricing=_gold(grams, 900 + (i % 5) * 350), look=Look("bangle", "gold"),
            photos=2 if i % 2 == 0 else 1,
        ))
    items += [
        _piece(name="足金转运珠手链", name_en="Gold lucky-bead bracelet", material="gold", gemstone="",
             style="bead", audience="unisex", tags=("按克计价", "本命年", "送礼"), collections=("bestsellers",),
             description="足金转运珠配红绳，本命年好寓意。",
             description_en="A 999 gold lucky bead on red cord, for a good year.",
             pricing=_gold("1.20", 120), look=Look("bracelet", "gold")),
        _piece(name="足金貔貅手链", name_en="Gold pixiu bracelet", material="gold", gemstone="",
             style="bead", audience="unisex", tags=("按克计价", "招财"), collections=("heritage-gold",),
             description="貔貅招财纳福，足金999。", description_en="A 999 gold pixiu, the keeper of wealth.",
             pricing=_gold("3.80", 260), look=Look("bracelet", "gold", "", "gourd")),
        _piece(name="18K金四叶草手链", name_en="18K gold four-leaf clover bracelet", material="k18",
             gemstone="", style="chain", tags=("送礼", "轻奢"), collections=("bestsellers",),
             description="18K金四叶草，幸运随身。", description_en="An 18K gold clover: luck on your wrist.",
             pricing=Fixed(3280), look=Look("bracelet", "gold", "", "clover")),
        _piece(name="18K玫瑰金串珠手链", name_en="18K rose gold bead bracelet", material="k18",
             gemstone="", style="bead", tags=("叠戴", "日常"), collections=("basic",),
             description="玫瑰金串珠，可与手表叠戴。", description_en="Rose gold beads that stack with a watch.",
             pricing=Fixed(2480), look=Look("bracelet", "rose", "", "heart")),
        _piece(name="铂金手链", name_en="Platinum chain bracelet", material="platinum", gemstone="",
             style="chain", audience="unisex", tags=("按克计价",), collections=("basic",),
             description="Pt950铂金手链，按克计价。", description_en="A Pt950 platinum bracelet, priced by weight.",
             pricing=_pt("5.60", 260), look=Look("bracelet", "white", "", "drop")),
        _piece(name="18K金钻石网球手链", name_en="18K gold diamond tennis bracelet", material="diamond",
             gemstone="diamond", style="tennis", tags=("钻石", "高级珠宝"), collections=("limited",),
             description="四十颗钻石连成一线，共2克拉。",
             description_en="Forty diamonds in a line, two carats in all.",
             pricing=Fixed(39800), stone=Stone(Decimal("2.00"), 40, certified=False),
             look=Look("bracelet", "white", "diamond"), photos=2),
        _piece(name="淡水珍珠手链", name_en="Freshwater pearl bracelet", material="pearl", gemstone="pearl",
             style="strand", tags=("珍珠", "送礼"), collections=("basic",),
             description="6-7mm淡水珍珠，温柔日常。", description_en="6-7 mm freshwater pearls for every day.",
             pricing=Fixed(580), look=Look("bracelet", "gold", "pearl_white")),
        _piece(name="南洋金珠手链", name_en="South Sea golden pearl bracelet", material="pearl", gemstone="pearl",
             style="strand", tags=("珍珠", "轻奢"), collections=(),
             description="南洋金珠，浓郁金色光泽。", description_en="South Sea pearls with a deep golden lustre.",
             pricing=Fixed(8800), look=Look("bracelet", "gold", "pearl_gold")),
    ]
    for zh, en, price, stone in (
        ("和田玉白玉手镯", "Hetian white jade bangle", 12800, "jade_white"),
        ("和田玉青玉手镯", "Hetian celadon jade bangle", 5800, "jade_white"),
        ("翡翠冰种手镯", "Icy jadeite bangle", 38800, "jade_green"),
        ("翡翠飘花手镯", "Jadeite bangle with floating green", 16800, "jade_green"),
        ("翡翠满绿手镯", "Imperial green jadeite bangle", 168000, "jade_green"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="jade", gemstone="jade", style="bangle",
            tags=("玉石", "送妈妈", "国潮"), collections=("limited",) if price > 30000 else (),
            description="天然玉料整块掏制，附国检证书；每只纹理不同。",
            description_en="Carved from one piece of natural stone with a national lab report; each one differs.",
            pricing=Fixed(price), look=Look("bangle", "gold", stone), photos=2,
        ))
    items.append(_piece(
        name="S925银素面手镯", name_en="Plain sterling silver bangle", material="silver", gemstone="",
        style="bangle", audience="unisex", tags=("银饰", "按克计价"), collections=(),
        description="S925银，按克计价，可调开口。",
        description_en="Sterling silver priced by weight, with an adjustable opening.",
        pricing=ByWeight("silver", "925", _w("32.00"), 260), look=Look("bangle", "white"),
    ))
    for item in items:
        item["category"] = "bracelets"
    return items


ZODIAC = [("鼠", "Rat"), ("牛", "Ox"), ("虎", "Tiger"), ("兔", "Rabbit"), ("龙", "Dragon"),
          ("蛇", "Snake"), ("马", "Horse"), ("羊", "Goat"), ("猴", "Monkey"), ("鸡", "Rooster"),
          ("狗", "Dog"), ("猪", "Pig")]


def _pendants() -> list[dict]:
    items = []
    for i, (zh, en) in enumerate(ZODIAC):
        horse = zh == "马"  # 2026 is a year of the horse: its pendant is everyone's gift
        items.append(_piece(
            name=f"足金生肖{zh}吊坠", name_en=f"Gold zodiac pendant: {en}", material="gold",
            gemstone="", style="zodiac", audience="unisex",
            tags=("生肖", "按克计价", "送礼") + (("本命年",) if horse else ()),
            collections=("heritage-gold",) + (("bestsellers",) if horse else ()),
            description=f"足金999生肖{zh}，立体錾刻，送给属{zh}的家人朋友。",
            description_en=f"A 999 gold {en.lower()}, chased in relief: for family and friends born in its year.",
            pricing=_gold(f"{2.4 + (i % 4) * 0.45:.2f}", 180), look=Look("pendant", "gold", "", "medallion"),
            photos=2 if horse else 1,
        ))
    for zh, en, price, stone, motif in (
        ("和田玉平安扣吊坠", "Hetian jade ping'an disc pendant", 1880, "jade_white", "disc"),
        ("翡翠平安扣吊坠", "Jadeite ping'an disc pendant", 6800, "jade_green", "disc"),
        ("翡翠观音吊坠", "Jadeite Guanyin pendant", 12800, "jade_green", "oval"),
        ("翡翠佛公吊坠", "Jadeite Buddha pendant", 9800, "jade_green", "oval"),
        ("和田玉如意吊坠", "Hetian jade ruyi pendant", 2880, "jade_white", "oval"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="jade", gemstone="jade", style="carved",
            tags=("玉石", "平安", "送礼"), collections=("bestsellers",) if "平安扣" in zh else (),
            description="天然玉石，18K金扣头，“男戴观音女戴佛”，寓意平安。",
            description_en="Natural jade on an 18K gold bail, a traditional wish for safekeeping.",
            pricing=Fixed(price), look=Look("pendant", "gold", stone, motif), photos=2,
        ))
    for zh, en, price, tone, stone, motif, material, gem, ct in (
        ("18K金钻石心形吊坠", "18K gold diamond heart pendant", 4280, "gold", "diamond", "heart", "diamond", "diamond", "0.15"),
        ("铂金钻石水滴吊坠", "Platinum diamond drop pendant", 8680, "white", "diamond", "drop", "diamond", "diamond", "0.30"),
        ("南洋金珠吊坠", "South Sea golden pearl pendant", 3980, "gold", "pearl_gold", "drop", "pearl", "pearl", ""),
        ("淡水珍珠吊坠", "Freshwater pearl pendant", 680, "gold", "pearl_white", "drop", "pearl", "pearl", ""),
    ):
        items.append(_piece(
            name=zh, name_en=en, material=material, gemstone=gem, style="pendant",
            tags=("送礼", "日常"), collections=(),
            description="吊坠单独出售，可搭配任意素链。",
            description_en="Sold without a chain: pair it with any of our chains.",
            pricing=Fixed(price), stone=Stone(Decimal(ct), 1, certified=ct == "0.30") if ct else None,
            look=Look("pendant", tone, stone, motif),
        ))
    for zh, en, grams, motif in (("古法金葫芦吊坠", "Heritage gold gourd pendant", "3.60", "gourd"),
                                 ("足金貔貅吊坠", "Gold pixiu pendant", "4.20", "medallion"),
                                 ("足金福牌吊坠", "Gold fu plaque pendant", "5.80", "plaque")):
        items.append(_piece(
            name=zh, name_en=en, material="gold", gemstone="", style="heritage", audience="unisex",
            tags=("古法金", "按克计价", "送礼"), collections=("heritage-gold",),
            description="足金999，古法工艺，吉祥寓意。",
            description_en="999 gold in the heritage craft, with an auspicious meaning.",
            pricing=_gold(grams, 220), look=Look("pendant", "gold", "", motif),
        ))
    for zh, en, grams, motif, tag in (
        ("足金长命锁吊坠", "Gold longevity lock pendant", "4.80", "plaque", "满月礼"),
        ("足金招财猫吊坠", "Gold lucky cat pendant", "3.20", "medallion", "招财"),
        ("足金金元宝吊坠", "Gold ingot pendant", "5.20", "gourd", "招财"),
    ):
        items.append(_piece(
            name=zh, name_en=en, material="gold", gemstone="", style="heritage", audience="unisex",
            tags=("按克计价", "送礼", tag), collections=(),
            description="足金999吉祥吊坠，送礼有心意。",
            description_en="An auspicious 999 gold pendant, a thoughtful gift.",
            pricing=_gold(grams, 200), look=Look("pendant", "gold", "", motif),
        ))
    for item in items:
        item["category"] = "pendants"
    return items


def product_specs() -> list[ProductSpec]:
    """Every demo product, in a fixed order (the order gives the SKU numbers)."""
    specs: list[ProductSpec] = []
    seen: set[str] = set()
    for item in (_diamond_rings() + _wedding_bands() + _gold_rings() + _necklaces()
                 + _earrings() + _bracelets() + _pendants()):
        slug = slugify(item["name_en"].replace("'", ""))[:110]
        assert slug not in seen, slug
        seen.add(slug)
        specs.append(ProductSpec(slug=slug, **item))
    return specs


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    size: str
    position: int
    pricing: Fixed | ByWeight
    stone: Stone | None


def variant_specs(spec: ProductSpec, number: int) -> list[VariantSpec]:
    """The SKUs of a product: ``R-0001-12`` for a ring in size 12, ``E-0003`` for a lone SKU.

    By-weight SKUs get heavier with the size (a bigger ring, a longer chain).
    """
    prefix = f"{SKU_PREFIX[spec.category]}-{number:04d}"
    if not spec.sizes:
        return [VariantSpec(prefix, "", 0, spec.pricing, spec.stone)]
    variants = []
    for position, size in enumerate(spec.sizes):
        pricing = spec.pricing
        if isinstance(pricing, ByWeight):
            factor = Decimal("1") + Decimal("0.04") * position
            pricing = ByWeight(pricing.metal, pricing.purity,
                               (pricing.weight_g * factor).quantize(Decimal("0.001")),
                               pricing.labour_fee)
        variants.append(VariantSpec(f"{prefix}-{size.removesuffix('cm')}", size, position,
                                    pricing, spec.stone))
    return variants


def barcode_for(sku: str) -> str:
    """A stable EAN-13 in China's 69x range, derived from the SKU."""
    digits = "69" + str(int(hashlib.sha256(sku.encode()).hexdigest(), 16))[:10]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


COLOURS = ("D", "E", "F", "G", "H", "I", "J")
CLARITIES = ("IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2")
CUTS = ("Excellent", "Excellent", "Excellent", "Very Good")


@dataclass(frozen=True)
class CertificateSpec:
    lab: str
    number: str
    carat: Decimal
    colour: str
    clarity: str
    cut: str
    issued_on: date


def certificate_for(*, sku: str, carat: Decimal, one_of_a_kind: bool) -> CertificateSpec:
    """The lab report of a solitaire: bigger stones go to GIA, small ones to NGTC or IGI."""
    rng = random.Random(f"cert:{sku}")
    if one_of_a_kind or carat >= Decimal("1.00"):
        lab, digits = "GIA", 10
    elif carat >= Decimal("0.50"):
        lab, digits = rng.choice((("GIA", 10), ("IGI", 9)))
    else:
        lab, digits = rng.choice((("NGTC", 12), ("IGI", 9)))
    number = str(rng.randrange(10 ** (digits - 1), 10**digits))
    # Bigger stones are sold with better grades; the smallest with the widest spread.
    best = 0 if one_of_a_kind else (1 if carat >= Decimal("0.50") else 2)
    colour = COLOURS[min(len(COLOURS) - 1, best + rng.randrange(0, 4))]
    clarity = CLARITIES[min(len(CLARITIES) - 1, best + rng.randrange(1, 5))]
    cut = "Excellent" if one_of_a_kind else rng.choice(CUTS)
    # Each stone of a size run weighs a touch different from the nominal weight.
    weight = carat + Decimal(rng.randrange(0, 3)) / 100
    issued_on = date.fromordinal(date(2025, 1, 1).toordinal() + rng.randrange(0, 600))
    return CertificateSpec(lab, number, weight, colour, clarity, cut, issued_on)
