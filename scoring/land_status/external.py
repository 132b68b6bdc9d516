"""Kinds found by checks above this floor, written through this floor's candidates.

The land-status rules (:mod:`.rules`) find their kinds themselves; a contract breach
(``contract_breach``) is found by the contract checks of :mod:`scoring.land_status.supply`,
which this floor never imports. Those checks hand their findings to
:func:`sync_external`, which keeps the rule of one open candidate per parcel
(migration 0027): a breach on a parcel that already has an open candidate joins it as
one more kind (after the kinds the rules found: the rules' precedence decides the
primary kind among them), with its checks in ``rules`` and its clause in
``evidence[EVIDENCE_KEY[kind]]``; on a parcel without one it opens a candidate of its
own. A breach that no longer holds leaves the candidate, which closes when no kind is
left. The rules run (:mod:`.run`) keeps these kinds, their checks and evidence when it
refreshes a candidate, and never closes a candidate that still carries one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import psycopg

#: Kind -> the evidence key its clause is stored under.
EVIDENCE_KEY: dict[str, str] = {"contract_breach": "contract"}
#: The kinds found above this floor.
EXTERNAL_KINDS: tuple[str, ...] = tuple(EVIDENCE_KEY)

_STAGE = """
CREATE TEMP TABLE external_stage (
    parcel_code text, town text, district text, area_m2 float8, priority real,
    reasons jsonb, rules jsonb, evidence jsonb
) ON COMMIT DROP
"""

# a parcel's open candidate (approvals apart) gains or refreshes the kind
_JOIN = """
WITH old AS (SELECT candidate_id, version FROM candidate WHERE status <> 'closed'),
upd AS (
    UPDATE candidate c SET
        kinds = CASE WHEN %(kind)s = ANY (c.kinds) THEN c.kinds ELSE c.kinds || %(kind)s END,
        reasons = ARRAY(SELECT x FROM unnest(c.reasons) x
                        WHERE NOT x = ANY (ARRAY(SELECT jsonb_array_elements_text(%(own)s::jsonb))))
                  || ARRAY(SELECT jsonb_array_elements_text(s.reasons)),
        rules = coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(c.rules) e
                          WHERE e->>'kind' IS DISTINCT FROM %(kind)s), '[]'::jsonb) || s.rules,
        evidence = c.evidence || jsonb_build_object(%(key)s::text, s.evidence),
        run_id = %(run)s
    FROM external_stage s
    WHERE c.parcel_code = s.parcel_code AND c.status <> 'closed'
      AND c.kind <> 'approved_unsupplied'
    RETURNING c.candidate_id, c.version, c.status
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT upd.candidate_id, %(actor)s, 'refreshed', upd.status, upd.status, %(comment)s, %(run)s
    FROM upd JOIN old USING (candidate_id) WHERE upd.version <> old.version
    RETURNING 1
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM ev)
"""

_CREATE = """
WITH ins AS (
    INSERT INTO candidate (parcel_code, kind, kinds, reasons, town, district, area_m2,
                           reclaimable_m2, certainty, priority, rules, evidence, run_id)
    SELECT s.parcel_code, %(kind)s, ARRAY[%(kind)s], ARRAY(SELECT jsonb_array_elements_text(s.reasons)),
           s.town, s.district, s.area_m2, NULL, 1.0, s.priority, s.rules,
           jsonb_build_object(%(key)s::text, s.evidence), %(run)s
    FROM external_stage s
    WHERE NOT EXISTS (SELECT 1 FROM candidate c WHERE c.parcel_code = s.parcel_code
                      AND c.kind <> 'approved_unsupplied' AND c.status <> 'closed')
    RETURNING candidate_id
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT candidate_id, %(actor)s, 'created', NULL, 'new', %(comment)s, %(run)s FROM ins
    RETURNING 1
)
SELECT count(*) FROM ev
"""

# checked parcels where the kind no longer holds: the kind leaves the candidate
_LEAVE = """
WITH target AS (
    SELECT c.candidate_id, c.status,
           array_remove(c.kinds, %(kind)s) AS kinds
    FROM candidate c
    WHERE c.status <> 'closed' AND %(kind)s = ANY (c.kinds)
      AND c.parcel_code = ANY (%(checked)s::text[])
      AND NOT EXISTS (SELECT 1 FROM external_stage s WHERE s.parcel_code = c.parcel_code)
),
closed AS (
    UPDATE candidate c SET status = 'closed', closed_reason = %(reason)s, run_id = %(run)s
    FROM target t WHERE c.candidate_id = t.candidate_id AND cardinality(t.kinds) = 0
    RETURNING c.candidate_id, t.status
),
kept AS (
    UPDATE candidate c SET kind = t.kinds[1], kinds = t.kinds,
           reasons = ARRAY(SELECT x FROM unnest(c.reasons) x
                           WHERE NOT x = ANY (ARRAY(SELECT jsonb_array_elements_text(%(own)s::jsonb)))),
           rules = coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(c.rules) e
                             WHERE e->>'kind' IS DISTINCT FROM %(kind)s), '[]'::jsonb),
           evidence = c.evidence - %(key)s::text, run_id = %(run)s
    FROM target t WHERE c.candidate_id = t.candidate_id AND cardinality(t.kinds) > 0
    RETURNING c.candidate_id, c.status
),
ev AS (
    INSERT INTO review_event (candidate_id, actor, action, from_status, to_status, comment, run_id)
    SELECT candidate_id, %(actor)s, 'closed', status, 'closed', %(reason)s, %(run)s FROM closed
    UNION ALL
    SELECT candidate_id, %(actor)s, 'refreshed', status, status, %(reason)s, %(run)s FROM kept
    RETURNING 1
)
SELECT (SELECT count(*) FROM closed), (SELECT count(*) FROM kept)
"""


def sync_external(conn: psycopg.Connection, kind: str, found: pd.DataFrame, *,
                  checked: set[str] | list[str], own_reasons: list[str], run_id: int | None,
                  actor: str = "system", comment: str = "", gone: str = "") -> dict[str, int]:
    """Write the findings of an external kind into the candidates (no commit).

    Parameters
    ----------
    kind : str
        One of :data:`EXTERNAL_KINDS`.
    found : DataFrame
        One row per parcel where the kind holds: ``parcel_code``, ``town``,
        ``district``, ``area_m2``, ``priority``, ``reasons`` (list: the kind and its
        reason codes), ``rules`` (list of checks, each with ``kind``), ``evidence`` (dict).
    checked : set of str
        Every parcel the checks looked at (where the kind no longer holds, it leaves).
    own_reasons : list of str
        Every reason code the kind may carry (removed with it).
    comment, gone : str
        The event comment of a finding, and the reason written when the kind leaves.

    Returns
    -------
    dict
        ``created``, ``joined`` (candidates refreshed with the kind),
        ``changed``, ``left`` (kind removed, candidate kept), ``closed``.
    """
    from gis.db.connection import translate_errors
    from gis.db.copy import copy_frame

    if kind not in EVIDENCE_KEY:
        raise ValueError(f"{kind!r} is not a kind found outside the rules")
    params: dict[str, Any] = {"kind": kind, "key": EVIDENCE_KEY[kind], "run": run_id,
                              "actor": actor, "comment": comment or kind,
                              "own": json.dumps(own_reasons), "reason": gone or kind,
                              "checked": sorted(checked)}
    stage = found.loc[:, ["parcel_code", "town", "district", "area_m2", "priority", "reasons",
                          "rules", "evidence"]] if len(found) else None
    with translate_errors("storing candidates"):
        conn.execute(_STAGE)
        if stage is not None:
            copy_frame(conn, "external_stage", stage)
        joined, changed = conn.execute(_JOIN, params).fetchone()
        created = conn.execute(_CREATE, params).fetchone()[0]
        closed, left = conn.execute(_LEAVE, params).fetchone()
        conn.execute("DROP TABLE external_stage")
    return {"created": int(created), "joined": int(joined), "changed": int(changed),
            "left": int(left), "closed": int(closed)}
