"""The pure part of redevelopment areas: checking what a user gives, and the figures.

Nothing here opens a file or a connection. An area's figures come from its members
(one row per candidate: parcel area, the date it was approved for reclamation if it was)
and its target:

* **reclaimed** — the parcel area, in mu (:data:`gis.crs.SQM_PER_MU`), of the members
  approved for reclamation (批准收回/盘活);
* **progress** — that area accumulated by the date of each approval;
* **status** — :data:`AREA_STATUSES`: not started, in progress, target met, or overdue
  once the planned month has ended without reaching the target.

Examples
--------
>>> import datetime as dt
>>> parse_method("兼并重组"), parse_method("close")
('merge', 'close')
>>> parse_planned("2026-09")
datetime.date(2026, 9, 1)
>>> area_status(reclaimed_mu=12.0, target_mu=10, planned=dt.date(2026, 9, 1),
...             as_of=dt.date(2026, 12, 7), n_approved=1)
'target_met'
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

from gis.crs import SQM_PER_MU
from gis.importing.values import as_date
from scoring.errors import AreaError
from scoring.land_status.vocabulary import AREA_METHODS

#: Longest area name accepted.
NAME_LIMIT = 200
#: Longest plan note accepted (characters).
NOTE_LIMIT = 5000

_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


def _methods_text() -> str:
    return "、".join(AREA_METHODS.labels().values())


def parse_method(text: str) -> str:
    """The method code of ``text``: a label (改造提升 …) or a code (``upgrade`` …).

    Raises
    ------
    AreaError
        Anything else; the message lists the five methods.

    Examples
    --------
    >>> parse_method("回收盘活")
    'reclaim'
    >>> parse_method("拆了重建")
    Traceback (most recent call last):
    ...
    scoring.errors.AreaError: 盘活方式 '拆了重建' 不在可选范围内; choose one of 改造提升、兼并重组、回收盘活、集聚入园、关停退出
    """
    value = str(text or "").strip()
    if value in AREA_METHODS:
        return value
    for code, label in AREA_METHODS.labels().items():
        if value == label:
            return code
    raise AreaError(f"盘活方式 {value!r} 不在可选范围内; choose one of {_methods_text()}")


def parse_planned(text: Any) -> dt.date:
    """The planned month ``YYYY-MM`` (or ``2026年9月``) as the first day of that month.

    Raises
    ------
    AreaError
        Not a month.

    Examples
    --------
    >>> parse_planned("2027年3月")
    datetime.date(2027, 3, 1)
    >>> parse_planned("2027-13")
    Traceback (most recent call last):
    ...
    scoring.errors.AreaError: --planned '2027-13' is not a month; write it as YYYY-MM, e.g. 2027-06
    """
    if isinstance(text, dt.date):
        return text.replace(day=1)
    match = _MONTH.match(str(text or ""))
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise AreaError(f"--planned {text!r} is not a month; write it as YYYY-MM, e.g. 2027-06")
    year, month = int(match.group(1)), int(match.group(2))
    return as_date(f"{year:04d}-{month:02d}-01", "--planned", error=AreaError)


def check_target(value: Any) -> float:
    """The target area in mu: a finite number above zero.

    Examples
    --------
    >>> check_target("35.5")
    35.5
    >>> check_target(0)
    Traceback (most recent call last):
    ...
    scoring.errors.AreaError: --target-mu 0 must be an area above 0 亩
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AreaError(f"--target-mu {value!r} is not a number of 亩") from None
    if not math.isfinite(number) or number <= 0 or number >= 1e9:
        raise AreaError(f"--target-mu {value!r} must be an area above 0 亩")
    return number


def check_name(name: Any) -> str:
    """The area name, stripped; empty or longer than :data:`NAME_LIMIT` is refused.

    Examples
    --------
    >>> check_name("  城东片区 ")
    '城东片区'
    """
    text = str(name or "").strip()
    if not text or len(text) > NAME_LIMIT:
        raise AreaError(f"an area needs a name of 1 to {NAME_LIMIT} characters, "
                        f"not {str(name)!r}")
    return text


def check_note(text: Any) -> str:
    """A plan note, stripped: 1 to :data:`NOTE_LIMIT` characters."""
    note = str(text or "").strip()
    if not note or len(note) > NOTE_LIMIT:
        raise AreaError(f"a plan note needs 1 to {NOTE_LIMIT} characters of text (--text)")
    return note


def month_end(planned: dt.date) -> dt.date:
    """The last day of the planned month.

    Examples
    --------
    >>> month_end(dt.date(2028, 2, 1))
    datetime.date(2028, 2, 29)
    """
    first_next = (planned.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def area_status(*, reclaimed_mu: float, target_mu: float, planned: dt.date,
                as_of: dt.date, n_approved: int, closed: bool = False) -> str:
    """Where an area stands (a code of ``land_status.area_status``).

    A closed area is ``closed`` whatever its figures. Otherwise target met wins; otherwise an area whose planned month has ended is overdue; else it
    is in progress once a member is approved, and not started before.

    Examples
    --------
    >>> area_status(reclaimed_mu=3, target_mu=10, planned=dt.date(2026, 11, 1),
    ...             as_of=dt.date(2026, 11, 30), n_approved=1)
    'in_progress'
    >>> area_status(reclaimed_mu=3, target_mu=10, planned=dt.date(2026, 11, 1),
    ...             as_of=dt.date(2026, 12, 1), n_approved=1)
    'overdue'
    >>> area_status(reclaimed_mu=3, target_mu=10, planned=dt.date(2026, 11, 1),
    ...             as_of=dt.date(2026, 12, 1), n_approved=1, closed=True)
    'closed'
    """
    if closed:
        return "closed"
    if reclaimed_mu >= target_mu:
        return "target_met"
    if as_of > month_end(planned):
        return "overdue"
    return "in_progress" if n_approved > 0 else "not_started"


def reclaimed_mu(members: pd.DataFrame) -> float:
    """Parcel area in mu of the members approved for reclamation.

    ``members`` has ``parcel_m2`` and ``approved_on`` (missing when not approved).

    Examples
    --------
    >>> m = pd.DataFrame({"parcel_m2": [6000.0, 2000.0], "approved_on": ["2026-03-01", None]})
    >>> round(reclaimed_mu(m), 4)
    9.0
    """
    if len(members) == 0:
        return 0.0
    approved = members["approved_on"].notna()
    return float(members.loc[approved, "parcel_m2"].fillna(0).sum()) / SQM_PER_MU


def progress(members: pd.DataFrame, target_mu: Any) -> pd.DataFrame:
    """Area approved by date: one row per approval date, oldest first.

    With an ``area_id`` column in ``members``, every area at once (``target_mu`` then maps
    area id → target), sorted by area and date.

    Columns: ``date``, ``n_approved`` (that day), ``mu`` (that day), ``cumulative_mu``,
    ``done_share`` (cumulative / target, 0–1 and beyond).

    Examples
    --------
    >>> import datetime as dt
    >>> m = pd.DataFrame({"parcel_m2": [SQM_PER_MU * 2, SQM_PER_MU, SQM_PER_MU * 3],
    ...                   "approved_on": [dt.date(2026, 5, 2), None, dt.date(2026, 3, 1)]})
    >>> progress(m, 10.0)[["date", "cumulative_mu", "done_share"]].to_dict("records")
    [{'date': datetime.date(2026, 3, 1), 'cumulative_mu': 3.0, 'done_share': 0.3}, \
{'date': datetime.date(2026, 5, 2), 'cumulative_mu': 5.0, 'done_share': 0.5}]
    """
    keys = ["area_id", "date"] if "area_id" in members.columns else ["date"]
    cols = [*keys, "n_approved", "mu", "cumulative_mu", "done_share"]
    if len(members) == 0:
        return pd.DataFrame(columns=cols)
    done = members[members["approved_on"].notna()]
    if len(done) == 0:
        return pd.DataFrame(columns=cols)
    by_day = (done.assign(date=done["approved_on"],
                          mu=done["parcel_m2"].fillna(0).astype(float) / SQM_PER_MU)
              .groupby(keys, sort=True)["mu"].agg(["size", "sum"])
              .rename(columns={"size": "n_approved", "sum": "mu"}).reset_index())
    running = (by_day.groupby("area_id")["mu"].cumsum() if "area_id" in keys
               else by_day["mu"].cumsum())
    by_day["cumulative_mu"] = running.round(6)
    target = (by_day["area_id"].map(target_mu) if isinstance(target_mu, dict | pd.Series)
              else float(target_mu))
    by_day["done_share"] = (by_day["cumulative_mu"] / target).round(6)
    by_day["n_approved"] = by_day["n_approved"].astype(int)
    return by_day[cols]


def firms_to_plan(holders: pd.DataFrame) -> pd.DataFrame:
    """The firms of an area that need "one firm, one plan" (一企一策), one row each.

    ``holders`` has one row per (candidate, firm) with ``credit_code``, ``name``,
    ``class`` (the firm's evaluation class, may be missing) and ``inefficient`` (the
    candidate carries the inefficient kind); with an ``area_id`` column, the firms of every
    area at once (one row per area and firm). A firm is listed when it is in class D, or
    it holds land of an inefficient-land candidate; ``reasons`` gives the codes of
    ``land_status.plan_reason`` that apply.

    Examples
    --------
    >>> h = pd.DataFrame({"credit_code": ["A", "B", "B", "C"], "name": ["a", "b", "b", "c"],
    ...                   "class": ["D", "B", "B", None],
    ...                   "inefficient": [False, False, True, False]})
    >>> firms_to_plan(h)[["credit_code", "reasons"]].to_dict("records")
    [{'credit_code': 'A', 'reasons': ['class_d']}, {'credit_code': 'B', 'reasons': ['inefficient']}]
    """
    keys = ["area_id", "credit_code"] if "area_id" in holders.columns else ["credit_code"]
    cols = [*keys, "name", "class", "reasons"]
    if len(holders) == 0:
        return pd.DataFrame(columns=cols)
    h = holders.assign(_d=(holders["class"] == "D").to_numpy(),
                       _i=holders["inefficient"].fillna(False).astype(bool).to_numpy())
    grouped = h.groupby(keys, sort=True)
    flags = grouped[["_d", "_i"]].any()
    firsts = grouped[["name", "class"]].first()
    keep = (flags["_d"] | flags["_i"]).to_numpy()
    d, i = flags["_d"].to_numpy()[keep], flags["_i"].to_numpy()[keep]
    reasons = [["class_d", "inefficient"] if a and b else ["class_d"] if a else ["inefficient"]
               for a, b in zip(d, i, strict=True)]
    out = firsts[keep].reset_index()
    out["reasons"] = reasons
    out = out[cols].astype({"name": object, "class": object})
    return out.where(out.notna(), None)
