"""The sample city's planted cases are all found, and no healthy parcel is called idle.

Planted truth (sample/planted.py, written to planted.csv): ``idle`` parcels are
idle-not-started candidates, ``unfinished`` ones unfinished, and ``built_unused`` and
``stopped_firm`` parcels built-but-unused. ``recently_supplied`` parcels are the control:
empty, but inside their first year, so never idle. Precision and recall per kind are
printed (``pytest -s``) and must be 1 for the planted kinds.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gis.settings import load_settings
from sample import generate_city
from sample.config import AS_OF
from sample.load import load_sample
from scoring.land_status.run import run_candidates

#: candidate kind -> planted kinds it must find
TRUTH = {"idle_not_started": {"idle"}, "unfinished": {"unfinished"},
         "built_unused": {"built_unused", "stopped_firm"}}


@pytest.fixture(scope="module", params=[5, 11])
def city(request, tmp_path_factory):
    return generate_city("small", request.param, tmp_path_factory.mktemp("planted") / "city",
                         imagery=False)


def precision_recall(found: set[str], truth: set[str]) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), (hit / len(truth) if truth else 1.0)


def test_planted_cases_found_with_no_idle_claim_on_a_healthy_parcel(db_conn, city, tmp_path):
    load_sample(db_conn, city)
    res = run_candidates(db_conn, load_settings({"home": str(tmp_path)}, environ={}),
                         as_of=AS_OF)
    planted = pd.read_csv(city.paths["planted"], dtype=str).fillna("")
    found = pd.DataFrame(db_conn.execute(
        "SELECT parcel_code, kind FROM candidate WHERE status <> 'closed'").fetchall(),
        columns=["parcel_code", "kind"])
    # every parcel rests on the sample's survey
    occ = db_conn.execute("SELECT count(*) FILTER (WHERE survey_date IS NULL), count(*)"
                          " FROM occupancy WHERE run_id = %s", (res.summary["occupancy_run"],)
                          ).fetchone()
    assert occ[0] == 0 and occ[1] == city.counts["parcels"]
    report = {}
    for kind, planted_kinds in TRUTH.items():
        truth = set(planted.loc[planted["kind"].isin(planted_kinds), "parcel_code"])
        got = set(found.loc[found["kind"] == kind, "parcel_code"])
        p, r = precision_recall(got, truth)
        report[kind] = (len(truth), len(got), p, r)
        assert r == 1.0, (kind, sorted(truth - got))
        assert p == 1.0, (kind, sorted(got - truth))
    idle = set(found.loc[found["kind"].isin(["idle_not_started", "idle_stalled"]),
                         "parcel_code"])
    healthy = set(planted.loc[planted["kind"] == "recently_supplied", "parcel_code"])
    assert healthy and not (idle & healthy)
    print(f"\nplanted cases, sample small-{city.seed} as of", AS_OF)
    for kind, (n_truth, n_got, p, r) in report.items():
        print(f"  {kind:<17} planted {n_truth:>3}  found {n_got:>3}  precision {p:.2f}  "
              f"recall {r:.2f}")
    print(f"  inefficient (not planted): {int((found['kind'] == 'inefficient').sum())}")
    s = res.summary
    print(f"  parcels {s['parcels']}  candidates {s['candidates']}"
          f" ({s['share_of_parcels']:.1%})  by kind {s['by_kind']}")
    print(f"  carrying each kind {s['with_kind']}")
    print(f"  per reason {s['by_reason']}")
    print(f"  reasons of the inefficient {s['by_reason_inefficient']}")
    # one candidate per parcel, whatever fired
    assert found["parcel_code"].is_unique
