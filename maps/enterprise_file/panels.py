"""The panels of the enterprise file, in the order they are shown, and the bureau's choice
of panels (the setting ``enterprise_panels``).

Examples
--------
>>> choose_panels(None) == PANELS
True
>>> choose_panels(["land", "history"])
('header', 'history', 'land')
>>> choose_panels(["taxes"])
Traceback (most recent call last):
...
gis.errors.ConfigError: 设置 enterprise_panels 中有未知的栏目：taxes。可选的栏目：header（基本信息）、history（历年评价）、per_mu（亩均效益）、land（土地）、imagery（影像）、figures（部门数据）、warnings（数据核查提示）、candidates（土地状态线索）、policies（差别化政策）、appeals（申诉）
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gis.errors import ConfigError
from gis.vocabulary import Vocabulary, register

#: Where the panels' names are written.
TERMS_FILE = Path(__file__).resolve().parent / "terms.yaml"
#: The panels, in the order of the file (vocabulary ``enterprise_file.panel``).
PANEL_TERMS: Vocabulary = register("maps.enterprise_file", TERMS_FILE)["enterprise_file.panel"]
#: panel → its title, in the order of the file. The header is always shown.
TITLES = PANEL_TERMS.labels()
PANELS: tuple[str, ...] = tuple(TITLES)
#: Panels made of enterprise figures: the review app shows them only to roles with
#: 'figures' (the database would leave them empty anyway).
FIGURE_PANELS = frozenset({"per_mu", "figures", "warnings", "appeals"})


def choose_panels(names: Iterable[str] | None) -> tuple[str, ...]:
    """The panels to show, in the file's order: every panel for None, else ``names`` and
    the header.

    Raises
    ------
    ConfigError
        A name that is not a panel (the message lists the panels, in Chinese).
    """
    if names is None:
        return PANELS
    names = [str(n).strip() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in TITLES]
    if unknown:
        known = "、".join(f"{k}（{v}）" for k, v in TITLES.items())
        raise ConfigError(f"设置 enterprise_panels 中有未知的栏目：{'、'.join(unknown)}。"
                          f"可选的栏目：{known}")
    return tuple(p for p in PANELS if p == "header" or p in names)
