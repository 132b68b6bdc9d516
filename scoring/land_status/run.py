"""The tool behind ``mujun candidates``: one stored rules run.

occupancy run (as of the date; reused when an identical one is stored) → facts →
rules → candidates synchronised with the ``candidate`` table in one transaction:

* a parcel with an open candidate whose kind still fires: its kinds (other kinds may
  join or leave; the primary kind is chosen again by precedence), reasons, evidence,
  rules, area, certainty and priority are **refreshed** (status and decisions untouched;
  a ``refreshed`` event when anything visible changed) — one candidate per parcel, so one
  decision;
* an open candidate whose kind no longer fires: **closed** with the failing checks of
  its kinds as the reason (``closed`` event); never deleted — a decision is never carried
  over to a kind it was not made on;
* a parcel where some kind fires and no open candidate is left: a **new** candidate
  (``created`` event). If the conditions return later, a new candidate is opened beside
  the closed one.

Kinds found above this floor (a contract breach, :mod:`.external`) are kept: a refresh
adds them back after the kinds the rules found, with their checks and evidence; a
candidate that still carries one is never closed by this run (when no rule kind fires
any more, it keeps only those kinds).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scoring.land_status.external import EVIDENCE_KEY, EXTERNAL_KINDS
from scoring.land_status.rules import KINDS

if TYPE_CHECKING:
    import psycopg

    from gis.settings import Settings

log = logging.getLogger(__name__)

RUN_KIND = "candidates"
SYSTEM_ACTOR = "system"

_APPROVALS_SQL = """
SELECT a.approval_code, a.approved_date, a.town, a.area_m2,
       ST_Area(ST_Difference(a.geom, coalesce((
           SELECT ST_Union(p.geom) FROM parcel p
           WHERE p.geom && a.geom AND (p.supply_date <= %(as_of)s OR EXISTS (
               SELECT 1 FROM parcel_contract_dates cd WHERE cd.parcel_code = p.parcel_code
               AND cd.supply_date <= %(as_of)s))),
           ST_SetSRID('GEOMETRYCOLLECTION EMPTY'::geometry, ST_SRID(a.geom))))) AS unsupplied_m2
FROM land_approval a WHERE a.approved_date <= %(as_of)s
"""


@dataclass
class CandidatesRun:
    """What :func:`run_candidates` returns."""

    run_id: int
    candidates: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def find_occupancy_run(conn: psycopg.Connection, as_of: dt.date | None) -> int | None:
    """A finished occupancy run as of ``as_of`` on the current inputs, if one is stored."""
    from parcels.occupancy.store import RUN_KIND as OCC
    from parcels.occupancy.store import input_fingerprint

    row = conn.execute(
        "SELECT run_id FROM run WHERE kind = %s AND status = 'done'"
        " AND params->'inputs' = %s::jsonb AND params->>'as_of' IS NOT DISTINCT FROM %s"
        " ORDER BY run_id DESC LIMIT 1",
        (OCC, _json(input_fingerprint(conn)), as_of.isoformat() if as_of else None)).fetchone()
    return int(row[0]) if row else None


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def run_candidates(conn: psycopg.Connection, settings: Settings, *,
                   as_of: dt.date | str | None = None, rules_path: str | Path | None = None,
                   occupancy_run: int | None = None, score_run: int | None = None,
                   progress=None) -> CandidatesRun:
    """Run the land-status rules and store the candidates (commits).

    Parameters
    ----------
    conn : psycopg.Connection
    settings : Settings
        Occupancy rules (sliver tolerance, overlap ratio, storey height).
    as_of : date or str, optional
        The date the rules judge (default: today). Occupancy uses, per parcel, the
        latest survey on or before it.
    rules_path : path, optional
        A rules YAML merged over the defaults (:mod:`.rules_config`).
    occupancy_run, score_run : int, optional
        Use these stored runs (default: an occupancy run as of the date on the current
        inputs, computed when none is stored; the latest score run of the records year).

    Returns
    -------
    CandidatesRun
    """
    from gis.db.runs import finish_run, start_run
    from gis.importing.values import as_date
    from parcels.occupancy.kernel import KernelOptions
    from parcels.occupancy.run import run_occupancy
    from parcels.occupancy.store import resolve_run
    from scoring.land_status.facts import read_facts, stalled_change
    from scoring.land_status.rules import approved_unsupplied, evaluate
    from scoring.land_status.rules_config import load_rules

    rules = load_rules(rules_path)
    asked = as_date(as_of, "--as-of date") if as_of is not None else None
    day = asked or dt.date.today()
    started = time.perf_counter()
    if occupancy_run is None:
        occupancy_run = find_occupancy_run(conn, asked)
        conn.rollback()
        if occupancy_run is None:
            log.info("no occupancy run as of %s on the current inputs: computing one", day)
            occupancy_run = run_occupancy(conn, settings, as_of=asked).run_id
    else:
        occupancy_run = resolve_run(conn, occupancy_run)
    occupancy_seconds = time.perf_counter() - started
    try:
        t0 = time.perf_counter()
        params = {"as_of": day.isoformat(), "rules": rules, "occupancy_run": occupancy_run,
                  "score_run": score_run}
        run_id = start_run(conn, RUN_KIND, params)
        facts = read_facts(conn, rules, occupancy_run=occupancy_run, as_of=day,
                           score_run=score_run)
        suspects = _stalled_suspects(facts, rules)
        change = stalled_change(conn, facts, suspects, rules, KernelOptions.from_settings(settings))
        open_rows = _open_candidates(conn)
        also: dict[str, set[str]] = {}
        for code, kinds in zip(open_rows["parcel_code"], open_rows["kinds"], strict=True):
            also.setdefault(code, set()).update(kinds)
        found, not_firing = evaluate(facts, rules, change, also=also)
        if rules["approved_unsupplied"]["enabled"]:
            approvals = _frame(conn, _APPROVALS_SQL, {"as_of": day})
            extra = approved_unsupplied(approvals, rules, day) if len(approvals) else None
            if extra is not None and len(extra):
                found = (pd.concat([found, extra], ignore_index=True) if len(found)
                         else extra.reset_index(drop=True))
                found = found.sort_values(["priority", "parcel_code"], ascending=[False, True],
                                          kind="stable").reset_index(drop=True)
        counts = sync_candidates(conn, run_id, found, not_firing, open_rows,
                                 evaluated=set(facts.parcels["parcel_code"]), rules=rules)
        by_kind = found["kind"].value_counts().to_dict()
        tallies = count_kinds_reasons(found)
        summary = {
            "as_of": day.isoformat(), "occupancy_run": occupancy_run,
            "score_run": facts.score_run, "records_year": facts.year,
            "rules": rules["source"], "parcels": len(facts.parcels),
            "candidates": len(found),
            "by_kind": {k: int(by_kind.get(k, 0)) for k in KINDS},
            "share_of_parcels": (round(len(found) / len(facts.parcels), 4)
                                 if len(facts.parcels) else 0.0),
            **tallies,
            "area_m2": float(found["area_m2"].sum()) if len(found) else 0.0,
            "reclaimable_m2": float(found["reclaimable_m2"].sum()) if len(found) else 0.0,
            **counts, "stalled_pairs_checked": len(change), "notes": facts.notes,
            "occupancy_seconds": round(occupancy_seconds, 3),
            "rules_seconds": round(time.perf_counter() - t0, 3),
        }
        finish_run(conn, run_id, "done", summary)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("candidates run %d: %d candidates", run_id, len(found))
    return CandidatesRun(run_id, found, summary)


def _frame(conn: psycopg.Connection, query: str, params: Any) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def _stalled_suspects(facts, rules: dict) -> list[str]:
    """Parcels that might be stalled: started, under-developed, with a survey."""
    if not rules["idle_stalled"]["enabled"]:
        return []
    p = facts.parcels
    cov = pd.to_numeric(p["coverage"], errors="coerce")
    built = pd.to_numeric(p["built_m2"], errors="coerce")
    ns = rules["idle_not_started"]
    mask = (p["survey_id"].notna() & (cov < rules["idle_stalled"]["developed_share_below"])
            & ((built >= ns["max_built_m2"]) | (cov >= ns["max_coverage"]))
            & p["agreed_start_date"].notna())
    return p.loc[mask, "parcel_code"].tolist()


def _open_candidates(conn: psycopg.Connection) -> pd.DataFrame:
    return _frame(conn, "SELECT candidate_id, parcel_code, kind, kinds, status FROM candidate"
                        " WHERE status <> 'closed'", None)


def count_kinds_reasons(found: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Candidates per primary kind are ``by_kind``; these are the wider counts.

    Returns
    -------
    dict
        ``with_kind``: candidates carrying each kind (primary or not);
        ``by_reason``: candidates carrying each reason code (every kind, and each
        inefficiency reason that applies, also on candidates it does not decide);
        ``by_reason_inefficient``: the reasons of the candidates carrying
        ``inefficient``.

    >>> f = pd.DataFrame({"kinds": [["built_unused", "inefficient"], ["inefficient"]],
    ...                   "reasons": [["built_unused", "inefficient", "class_d"],
    ...                               ["inefficient", "class_d", "far_below_agreed"]]})
    >>> count_kinds_reasons(f)["with_kind"]["inefficient"]
    2
    """
    with_kind = {k: 0 for k in KINDS}
    by_reason: dict[str, int] = {}
    ineff: dict[str, int] = {}
    for kinds, reasons in zip(found.get("kinds", []), found.get("reasons", []), strict=True):
        for k in kinds:
            with_kind[k] = with_kind.get(k, 0) + 1
        for r in reasons:
            by_reason[r] = by_reason.get(r, 0) + 1
            if "inefficient" in kinds and r not in KINDS:
                ineff[r] = ineff.get(r, 0) + 1
    return {"with_kind": with_kind, "by_reason": dict(sorted(by_reason.items())),
            "by_reason_inefficient": dict(sorted(ineff.items()))}


_STAGE = """
CREATE TEMP TABLE candidate_stage (
    parcel_code text, kind text, kinds jsonb, reasons jsonb, town text, district text,
    area_m2 float8,
    reclaimable_m2 float8, certainty real, priority real, rules jsonb, evidence jsonb
) ON COMMIT DROP
"""

_REFRESH = """
WITH old AS (SELECT candidate_id, version FROM candidate WHERE status <> 'closed'),
upd AS (
    UPDATE candidate c SET kind = s.kind,
           kinds = ARRAY(SELECT jsonb_array_elements_text(s.kinds))
                   || ARRAY(SELECT k FROM unnest(c.kinds) k WHERE k = ANY (%(external)s)),
           reasons = ARRAY(SELECT jsonb_array_elements_text(s.reasons))
                     || ARRAY(SELECT r FROM unnest(c.reasons) r
                              WHERE r = ANY (%(external)s) OR r IN (
                                  SELECT e->>'rule' FROM jsonb_array_elements(c.rules) e
                                  WHERE e->>'kind' = ANY (%(external)s))),
           town = s.town, district = s.district, area_m2 = s.area_m2,
           reclaimable_m2 = s.reclaimable_m2, certainty = s.certainty, priority = s.priority,
           rules = s.rules || coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(c.rules) e
                                        WHERE e->>'kind' = ANY (%(external)s)), '[]'::jsonb),
           evidence = s.evidence || coalesce((SELECT jsonb_object_agg(k, v)
                                              FROM jsonb_each(c.evidence) AS x (k, v)
                                              WHERE k = ANY (%(external_keys)s)), '{}'::jsonb),
           run_id = %(run)s
    FROM candidate_stage s
    WHERE c.parcel_code = s.parcel_code AND c.status <> 'closed'
      AND (s.kinds ? c.kind OR c.kinds && %(external)s)
    RETURNING c.candidate_id, c.version, c.status
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT upd.candidate_id, %(actor)s, 'refreshed', upd.status, upd.status,
           'evidence refreshed by the rules run', %(run)s
    FROM upd JOIN old USING (candidate_id) WHERE upd.version <> old.version
    RETURNING 1
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM ev)
"""

_CREATE = """
WITH ins AS (
    INSERT INTO candidate (parcel_code, kind, kinds, reasons, town, district, area_m2,
                           reclaimable_m2, certainty, priority, rules, evidence, run_id)
    SELECT s.parcel_code, s.kind, ARRAY(SELECT jsonb_array_elements_text(s.kinds)),
           ARRAY(SELECT jsonb_array_elements_text(s.reasons)), s.town, s.district, s.area_m2, s.reclaimable_m2, s.certainty,
           s.priority, s.rules, s.evidence, %(run)s
    FROM candidate_stage s
    WHERE NOT EXISTS (SELECT 1 FROM candidate c WHERE c.parcel_code = s.parcel_code
                      AND (c.kind = 'approved_unsupplied') = (s.kind = 'approved_unsupplied')
                      AND c.status <> 'closed')
    RETURNING candidate_id
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT candidate_id, %(actor)s, 'created', NULL, 'new', 'found by the rules run', %(run)s
    FROM ins RETURNING 1
)
SELECT count(*) FROM ev
"""

# an open candidate kept by a kind found above this floor (:mod:`.external`) whose rule
# kinds no longer fire keeps only those kinds, their checks and evidence
_TRIM = """
WITH target AS (
    SELECT c.candidate_id, c.status,
           ARRAY(SELECT k FROM unnest(c.kinds) k WHERE k = ANY (%(external)s)) AS kinds
    FROM candidate c
    WHERE c.status <> 'closed' AND c.kinds && %(external)s
      AND NOT c.kinds <@ %(external)s
      AND NOT EXISTS (SELECT 1 FROM candidate_stage s WHERE s.parcel_code = c.parcel_code)
),
upd AS (
    UPDATE candidate c SET kind = t.kinds[1], kinds = t.kinds,
           reasons = ARRAY(SELECT r FROM unnest(c.reasons) r
                           WHERE r = ANY (%(external)s) OR r IN (
                               SELECT e->>'rule' FROM jsonb_array_elements(c.rules) e
                               WHERE e->>'kind' = ANY (%(external)s))),
           rules = coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(c.rules) e
                             WHERE e->>'kind' = ANY (%(external)s)), '[]'::jsonb),
           evidence = coalesce((SELECT jsonb_object_agg(k, v) FROM jsonb_each(c.evidence)
                                AS x (k, v) WHERE k = ANY (%(external_keys)s)), '{}'::jsonb),
           run_id = %(run)s
    FROM target t WHERE c.candidate_id = t.candidate_id
    RETURNING c.candidate_id, t.status
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT candidate_id, %(actor)s, 'refreshed', status, status,
           'the rules no longer fire; kept for the contract check', %(run)s FROM upd
    RETURNING 1
)
SELECT count(*) FROM ev
"""

_CLOSE = """
WITH target AS (
    SELECT c.candidate_id, c.status, r.reason
    FROM candidate c JOIN unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS r (id, reason)
         ON r.id = c.candidate_id
    WHERE c.status <> 'closed'
),
upd AS (
    UPDATE candidate c SET status = 'closed', closed_reason = t.reason, run_id = %(run)s
    FROM target t WHERE c.candidate_id = t.candidate_id
    RETURNING c.candidate_id
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT t.candidate_id, %(actor)s, 'closed', t.status, 'closed', t.reason, %(run)s
    FROM target t JOIN upd USING (candidate_id) RETURNING 1
)
SELECT count(*) FROM ev
"""


def sync_candidates(conn: psycopg.Connection, run_id: int, found: pd.DataFrame,
                    not_firing: dict[tuple[str, str], str], open_rows: pd.DataFrame, *,
                    evaluated: set[str], rules: dict) -> dict[str, int]:
    """Refresh, create and close candidates so the table matches ``found`` (no commit).

    Returns
    -------
    dict
        ``created``, ``refreshed`` (rows updated), ``changed`` (refreshed with visible
        changes), ``closed``, ``kept_decisions`` (refreshed rows with a reviewer status).
    """
    from gis.db.connection import translate_errors
    from gis.db.copy import copy_frame

    fired: dict[str, set[str]] = {}
    for code, kinds in zip(found["parcel_code"], found["kinds"], strict=True):
        fired.setdefault(code, set()).update(kinds)

    def holds(code: str, kind: str) -> bool:
        """An open candidate stays while the kind it is handled under still fires."""
        return kind in fired.get(code, ())

    ids, reasons = [], []
    for r in open_rows.itertuples(index=False):
        if holds(r.parcel_code, r.kind) or set(r.kinds) & set(EXTERNAL_KINDS):
            continue
        if r.kind == "approved_unsupplied":
            reason = "the approved land is now supplied, or less than the minimum remains"
        elif r.parcel_code not in evaluated:
            reason = "the parcel is no longer in the occupancy run (deleted or recoded)"
        else:
            parts = []
            for kind in r.kinds:
                if not rules[kind]["enabled"]:
                    parts.append(f"kind {kind} is switched off in the rules ({rules['source']})")
                elif not holds(r.parcel_code, kind):
                    parts.append(f"{kind}: " + not_firing.get((r.parcel_code, kind),
                                                              "conditions no longer hold"))
            reason = " | ".join(parts) or "conditions no longer hold"
        ids.append(int(r.candidate_id))
        reasons.append(f"run {run_id}: {reason}")
    kept = int(open_rows[[holds(c, k) for c, k in zip(
        open_rows["parcel_code"], open_rows["kind"], strict=True)]]["status"].ne("new").sum()
               ) if len(open_rows) else 0
    params = {"run": run_id, "actor": SYSTEM_ACTOR, "external": list(EXTERNAL_KINDS),
              "external_keys": [EVIDENCE_KEY[k] for k in EXTERNAL_KINDS]}
    with translate_errors("storing candidates"):
        conn.execute(_STAGE)
        if len(found):
            copy_frame(conn, "candidate_stage", found.loc[:, [
                "parcel_code", "kind", "kinds", "reasons", "town", "district", "area_m2",
                "reclaimable_m2", "certainty", "priority", "rules", "evidence"]])
        refreshed, changed = conn.execute(_REFRESH, params).fetchone()
        conn.execute(_TRIM, params)
        closed = conn.execute(_CLOSE, {**params, "ids": ids, "reasons": reasons}).fetchone()[0]
        created = conn.execute(_CREATE, params).fetchone()[0]
        conn.execute("DROP TABLE candidate_stage")
    return {"created": int(created), "refreshed": int(refreshed), "changed": int(changed),
            "closed": int(closed), "kept_decisions": kept}
