"""Invented but plausible Chinese names: towns, districts and companies.

Town names are built from character pairs that read like Jiangnan place names;
they are not meant to match real towns. County codes are real GB/T 2260
division codes of Suzhou and its neighbours, so parcel and credit codes carry
a realistic six-digit division.
"""

from __future__ import annotations

import numpy as np

#: County (district) division codes and names, Suzhou first, then neighbours.
COUNTIES: tuple[tuple[str, str], ...] = (
    ("320509", "吴江区"),
    ("320506", "吴中区"),
    ("320507", "相城区"),
    ("320505", "虎丘区"),
    ("320581", "常熟市"),
    ("320582", "张家港市"),
    ("320583", "昆山市"),
    ("320585", "太仓市"),
    ("320205", "锡山区"),
    ("320206", "惠山区"),
    ("320211", "滨湖区"),
    ("320213", "梁溪区"),
    ("320214", "新吴区"),
    ("320281", "江阴市"),
    ("320282", "宜兴市"),
    ("320411", "新北区"),
    ("320412", "武进区"),
    ("320413", "金坛区"),
    ("320481", "溧阳市"),
    ("320612", "通州区"),
    ("320613", "崇川区"),
    ("320614", "海门区"),
    ("320681", "启东市"),
    ("320682", "如皋市"),
    ("320685", "海安市"),
)

_TOWN_FIRST = (
    "澄桐汾菱芦枫梅荷蓉莘湘渔溪泾澜沁苇葑荻蠡璜棠黎柘蕴横淞浦湄岚芸茜莳荇萍汀渚沚浔湫漕淀"
    "柳杏桂兰竹松柏槐榆樟莲蒲茭菰藕荞禾稷麦桑蚕丝绫锦绸罗纱"
)
_TOWN_SECOND = "湖泽溪塘浜港泾渡桥墩庄湾坝浦舍墅洲里堰圩荡滨口头"

_BRAND_CHARS = (
    "恒泰鑫盛宏远华昌隆兴永丰瑞祥德利嘉诚聚源汇通新宇博达中和天润金鼎海联"
    "正大同创精锐凯旋明辉富康长荣宝峰立信万通华尔福瑞康信腾飞博盈合众天成"
)

#: Business words by GB/T 4754-2017 division.
_TRADE_WORDS: dict[str, tuple[str, ...]] = {
    "13": ("食品", "粮油"),
    "14": ("食品", "食品科技"),
    "15": ("饮料", "酿造"),
    "17": ("纺织", "织造", "丝绸", "印染"),
    "18": ("服饰", "服装"),
    "21": ("家具", "家居"),
    "22": ("纸业", "包装"),
    "23": ("印务", "彩印"),
    "26": ("化工", "新材料", "涂料"),
    "27": ("药业", "生物医药"),
    "28": ("化纤", "合纤"),
    "29": ("塑业", "塑胶", "橡塑"),
    "30": ("建材", "新型建材"),
    "31": ("钢业", "特钢"),
    "32": ("铝业", "铜业"),
    "33": ("金属制品", "五金", "钢结构"),
    "34": ("机械", "精密机械", "动力"),
    "35": ("装备", "智能装备"),
    "36": ("汽车零部件", "汽配"),
    "38": ("电气", "电缆", "新能源", "光电"),
    "39": ("电子", "微电子", "半导体"),
    "40": ("仪器", "自动化"),
    "41": ("制品",),
    "42": ("再生资源", "环保科技"),
    "43": ("设备维修", "机电"),
}
_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "科技有限公司")


def county(index: int) -> tuple[str, str]:
    """County code and name for the ``index``-th county (cycled)."""
    return COUNTIES[index % len(COUNTIES)]


def town_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct invented town names ending in 镇.

    Examples
    --------
    >>> names = town_names(np.random.default_rng(0), 3)
    >>> len(set(names)) == 3 and all(n.endswith("镇") for n in names)
    True
    """
    pairs = [a + b for a in _TOWN_FIRST for b in _TOWN_SECOND if b != a]
    if n > len(pairs):
        raise ValueError(f"at most {len(pairs)} town names available, asked for {n}")
    order = rng.permutation(len(pairs))[:n]
    return [pairs[i] + "镇" for i in order]


def company_names(
    rng: np.random.Generator, divisions: np.ndarray, towns: list[str] | np.ndarray, taken: set[str]
) -> list[str]:
    """Invent one company name per row (unique against ``taken``, which is updated).

    A name reads ``<place><brand><trade><form>``, e.g. ``澄湖恒泰纺织有限公司``.
    """
    n = len(divisions)
    first = rng.integers(0, len(_BRAND_CHARS), size=n)
    second = rng.integers(0, len(_BRAND_CHARS), size=n)
    trade_pick = rng.integers(0, 1000, size=n)
    form_pick = rng.integers(0, len(_FORMS), size=n)
    extra = rng.integers(0, len(_BRAND_CHARS), size=(n, 4))
    names = []
    for i in range(n):
        words = _TRADE_WORDS.get(str(divisions[i]), ("实业",))
        place = str(towns[i])[:2]
        brand = _BRAND_CHARS[first[i]] + _BRAND_CHARS[second[i]]
        name = place + brand + words[trade_pick[i] % len(words)] + _FORMS[form_pick[i]]
        k = 0
        while name in taken:
            # Deterministic disambiguation: lengthen the brand.
            brand += _BRAND_CHARS[extra[i, k % 4]]
            name = place + brand + words[trade_pick[i] % len(words)] + _FORMS[form_pick[i]]
            k += 1
        taken.add(name)
        names.append(name)
    return names
