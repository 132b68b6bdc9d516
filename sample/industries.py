"""GB/T 4754-2017 manufacturing classes used by the sample city, with a Suzhou-like mix.

Only four-digit class codes of section C (divisions 13-43) that exist in the
2017 edition are used, so importers can check them against the official table.
Weights roughly follow the industrial structure of southern Jiangsu: textiles,
chemical fibre, equipment, electrical machinery and electronics dominate.
"""

from __future__ import annotations

import numpy as np

#: (class code, name, relative weight)
CLASSES: tuple[tuple[str, str, float], ...] = (
    ("1311", "稻谷加工", 0.4),
    ("1431", "米、面制品制造", 0.4),
    ("1521", "碳酸饮料制造", 0.2),
    ("1711", "棉纺纱加工", 1.5),
    ("1712", "棉织造加工", 1.5),
    ("1713", "棉印染精加工", 1.0),
    ("1751", "化纤织造加工", 4.0),
    ("1752", "化纤织物染整精加工", 2.0),
    ("1761", "针织或钩针编织物织造", 1.0),
    ("1781", "床上用品制造", 0.6),
    ("1811", "运动机织服装制造", 0.5),
    ("1819", "其他机织服装制造", 1.0),
    ("2110", "木质家具制造", 0.8),
    ("2221", "机制纸及纸板制造", 0.4),
    ("2231", "纸和纸板容器制造", 0.8),
    ("2319", "包装装潢及其他印刷", 0.8),
    ("2641", "涂料制造", 0.5),
    ("2651", "初级形态塑料及合成树脂制造", 0.4),
    ("2661", "化学试剂和助剂制造", 0.5),
    ("2669", "其他专用化学产品制造", 0.5),
    ("2710", "化学药品原料药制造", 0.3),
    ("2720", "化学药品制剂制造", 0.3),
    ("2822", "涤纶纤维制造", 2.0),
    ("2921", "塑料薄膜制造", 0.8),
    ("2922", "塑料板、管、型材制造", 0.8),
    ("2929", "塑料零件及其他塑料制品制造", 1.5),
    ("3021", "水泥制品制造", 0.4),
    ("3130", "钢压延加工", 0.5),
    ("3252", "铝压延加工", 0.6),
    ("3311", "金属结构制造", 1.2),
    ("3312", "金属门窗制造", 0.5),
    ("3360", "金属表面处理及热处理加工", 0.6),
    ("3399", "其他未列明金属制品制造", 1.2),
    ("3443", "阀门和旋塞制造", 0.6),
    ("3484", "机械零部件加工", 3.0),
    ("3551", "纺织专用设备制造", 1.0),
    ("3562", "半导体器件专用设备制造", 0.4),
    ("3670", "汽车零部件及配件制造", 2.0),
    ("3825", "光伏设备及元器件制造", 0.8),
    ("3831", "电线、电缆制造", 1.2),
    ("3841", "锂离子电池制造", 0.5),
    ("3872", "照明灯具制造", 0.6),
    ("3912", "计算机零部件制造", 0.8),
    ("3973", "集成电路制造", 0.4),
    ("3976", "光电子器件制造", 0.8),
    ("3982", "电子电路制造", 1.5),
    ("4011", "工业自动控制系统装置制造", 0.6),
    ("4190", "其他未列明制造业", 0.3),
    ("4210", "金属废料和碎屑加工处理", 0.3),
    ("4320", "通用设备修理", 0.2),
)

CODES = np.array([c for c, _, _ in CLASSES])
_WEIGHTS = np.array([w for _, _, w in CLASSES])
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def draw_classes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` industry class codes with the sample's weights."""
    return CODES[rng.choice(len(CODES), size=n, p=_WEIGHTS)]
