"""The supply page's work against the database: reading plots and areas in the user's
scope, and editing a plot through the supply code's own functions
(:func:`scoring.land_status.supply.plots.set_info`, :func:`scoring.land_status.supply.plots.advance`).

Those functions commit themselves (they are the command line's too), while the app
names its user for row-level security only for one transaction. :func:`as_user` names
the user for the connection's session while they run and clears it afterwards, so
every statement they make — before and after their commit — is checked as that user.
No domain rule is written here: what a valid step is, and what a step writes, is the
supply code's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gis.crs import SQM_PER_MU

if TYPE_CHECKING:
    import psycopg

#: Longest supply-information value accepted (characters).
MAX_VALUE = 2000
#: Most keys one edit may carry.
MAX_KEYS = 40


class SupplyRefused(Exception):
    """A request the page refuses: ``status`` (400, 404, 409) and a message in Chinese."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@contextlib.contextmanager
def as_user(conn: psycopg.Connection, token: str) -> Iterator[psycopg.Connection]:
    """Name the session's user on ``conn`` until the block ends (across commits)."""
    conn.execute("SELECT set_config('mujun.session', %s, false)", (token,))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.execute("SELECT set_config('mujun.session', '', false)")
        conn.commit()


def _labels(plot: dict[str, Any]) -> dict[str, Any]:
    from scoring.land_status.supply.pipeline import next_steps
    from scoring.land_status.supply.vocabulary import ORIGINS, STATUSES

    return dict(plot, status_zh=STATUSES.label(plot["status"]),
                origin_zh=ORIGINS.label(plot.get("origin")),
                next=[{"code": s, "zh": STATUSES.label(s)} for s in next_steps(plot["status"])])


def overview(conn: psycopg.Connection) -> dict[str, Any]:
    """Plots in scope with their step and next steps, counts per step, and the areas'
    progress (area approved against the target) — what officials follow."""
    from scoring.land_status.areas.store import list_areas
    from scoring.land_status.supply.plots import list_plots
    from scoring.land_status.supply.vocabulary import STATUSES
    from scoring.land_status.vocabulary import AREA_METHODS, AREA_STATUSES

    frame = list_plots(conn)
    plots = [_labels(p) for p in frame.to_dict("records")]
    counts = {s: 0 for s in STATUSES.codes()}
    for p in plots:
        counts[p["status"]] += 1
    areas = [dict(a, method_zh=AREA_METHODS.label(a["method"]),
                  status_zh=AREA_STATUSES.label(a["status"]))
             for a in list_areas(conn, firms=False)]
    return {"plots": plots,
            "steps": [{"code": s, "zh": STATUSES.label(s), "n": n} for s, n in counts.items()],
            "areas": areas, "total_mu": round(sum(p["area_m2"] for p in plots) / SQM_PER_MU, 2)}


def detail(conn: psycopg.Connection, plot_id: int) -> dict[str, Any]:
    """One plot as :func:`scoring.land_status.supply.plots.get_plot` reads it, with labels and the
    supply-information fields (template keys first, then the plot's own)."""
    from scoring.land_status.supply.errors import PlotNotFound
    from scoring.land_status.supply.plots import get_plot
    from scoring.land_status.supply.vocabulary import INDICATORS, INFO, STATUSES

    try:
        plot = get_plot(conn, int(plot_id))
    except PlotNotFound:
        raise SupplyRefused(404, "未找到该地块（或不在您的管辖范围内）") from None
    info = plot.get("info") or {}
    fields = [{"key": t.code, "zh": t.zh + (f"（{t.unit}）" if t.unit else ""),
               "value": info.get(t.code, "")} for t in INFO]
    fields += [{"key": k, "zh": k, "value": v} for k, v in info.items() if k not in INFO]
    indicators = [{"zh": t.zh + (f"（{t.unit}）" if t.unit else ""),
                   "value": (plot.get("indicators") or {}).get(t.code)} for t in INDICATORS]
    history = [dict(h, from_zh=STATUSES.label(h["from_status"]) if h["from_status"] else "",
                    to_zh=STATUSES.label(h["to_status"])) for h in plot["history"]]
    out = _labels(plot)
    out.update(fields=fields, indicators=indicators, history=history)
    out.pop("contract", None)           # the contract's figures are not the page's business
    return out


def _version(conn: psycopg.Connection, plot_id: int, expected: Any) -> None:
    row = conn.execute("SELECT version FROM supply_plot WHERE plot_id = %s",
                       (int(plot_id),)).fetchone()
    if row is None:
        raise SupplyRefused(404, "未找到该地块（或不在您的管辖范围内）")
    if not isinstance(expected, int) or isinstance(expected, bool) or expected != row[0]:
        raise SupplyRefused(409, "该地块已被他人修改，请刷新后重试")


def save_info(conn: psycopg.Connection, token: str, plot_id: int, body: dict) -> dict:
    """Merge the body's ``values`` into the plot's supply information (``version``: the
    version the user read); an empty value removes a field."""
    from scoring.land_status.supply.plots import parse_info, set_info

    values = body.get("values")
    if not isinstance(values, dict) or not values or len(values) > MAX_KEYS:
        raise SupplyRefused(400, f"请提交 1 至 {MAX_KEYS} 项供地信息")
    pairs = []
    for key, value in values.items():
        if not isinstance(value, str) or len(value) > MAX_VALUE or "=" in str(key):
            raise SupplyRefused(400, f"供地信息「{key}」应为不超过 {MAX_VALUE} 字的文字")
        pairs.append(f"{key}={value}")
    with as_user(conn, token):
        _version(conn, plot_id, body.get("version"))
        set_info(conn, int(plot_id), parse_info(pairs))
        return detail(conn, plot_id)


def step(conn: psycopg.Connection, token: str, username: str, plot_id: int,
         body: dict) -> dict:
    """Advance the plot to ``to`` on ``date`` with the document (文号), or back with a reason,
    as ``username`` (``version``: the version the user read)."""
    from gis.importing.values import as_date
    from scoring.land_status.supply.plots import advance
    from scoring.land_status.supply.vocabulary import STATUSES

    to = body.get("to")
    if not isinstance(to, str) or to not in STATUSES:
        raise SupplyRefused(400, "请选择要推进到的环节")
    on = as_date(body.get("date"), "日期")
    if on > dt.date.today():
        raise SupplyRefused(400, f"日期 {on} 晚于今天：只能登记已经发生的环节")
    texts = {}
    for name in ("document", "reason"):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            raise SupplyRefused(400, "文号或原因应为不超过 500 字的文字")
        texts[name] = (value or "").strip() or None
    with as_user(conn, token):
        _version(conn, plot_id, body.get("version"))
        advance(conn, int(plot_id), to, on, actor=username, document=texts["document"],
                reason=texts["reason"])
        return detail(conn, plot_id)
