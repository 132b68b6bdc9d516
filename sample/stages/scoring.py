"""Demo stage: score the sample city under a bundled rule set and count classes per town."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sample.demo_run import DemoRun

#: The preset the demo scores with (fixed benchmarks: no previous-year run needed).
DEMO_RULESET = "zhejiang-huangyan-2022"


def stage_score(run: DemoRun) -> dict | None:
    """Score the newest year of the sample under :data:`DEMO_RULESET`; class counts per town."""
    if not run.load:
        return None
    from scoring.run import run_scores
    from scoring.summary import summarize_run

    conn = run.conn
    year = conn.execute("SELECT max(year) FROM enterprise_year").fetchone()[0]
    if year is None:
        return None
    with run.bar(None, "scoring", "enterprise") as progress:
        result = run_scores(conn, DEMO_RULESET, int(year), progress=progress)
    towns = summarize_run(conn, by="town", run_id=result.run_id)
    s = result.summary
    out = {
        "run": result.run_id,
        "rule set": f"{DEMO_RULESET}, year {year}",
        "classes": ", ".join(f"{k} {v:,}" for k, v in s["classes"].items()),
        "warnings": ", ".join(f"{k} {v:,}" for k, v in s["warnings"].items()) or "none",
    }
    # one line per town under the stage's line in the demo summary
    out["classes per town"] = "".join(
        f"\n{'':15}{r['town']:<10} A {r['A']:>4,}  B {r['B']:>4,}  C {r['C']:>4,}  "
        f"D {r['D']:>4,}  T {r['T']:>4,}   tax {r['tax_per_mu'] or 0:6.1f} 万元/mu"
        for r in towns.to_dict("records"))
    return out


stage_score.order = 50
