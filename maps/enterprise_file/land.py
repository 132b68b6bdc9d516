"""Panel 土地: parcels held (自有), leased in (承租) and leased out (出租, with the tenant),
with certificate and measured area and, from the latest occupancy run, built area,
coverage (建筑系数) and FAR (容积率)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maps.enterprise_file.rows import rows

if TYPE_CHECKING:
    import psycopg


def land(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    """The land rows of ``code``: held first, then leased in, then leased out."""
    from parcels.vocabulary import RIGHT_ROLES

    found = rows(conn.execute(
        "WITH occ AS (SELECT run_id FROM run WHERE kind = 'occupancy' AND status = 'done'"
        "   ORDER BY finished_at DESC, run_id DESC LIMIT 1),"
        " mine AS (SELECT parcel_code, right_type, share, leased_land_m2, leased_floor_m2,"
        "   start_date, end_date, NULL::text AS tenant FROM land_right WHERE credit_code = %s"
        "   UNION ALL"
        "   SELECT t.parcel_code, 'leased_out', NULL, t.leased_land_m2, t.leased_floor_m2,"
        "   t.start_date, t.end_date, trim(t.credit_code) FROM land_right t"
        "   JOIN land_right o ON o.parcel_code = t.parcel_code AND o.credit_code = %s"
        "   AND o.right_type = 'owner' WHERE t.right_type = 'tenant' AND t.credit_code <> %s)"
        " SELECT m.parcel_code, m.right_type, m.share, m.leased_land_m2, m.leased_floor_m2,"
        " m.start_date, m.end_date, m.tenant, p.land_use_code, p.town, p.park,"
        " p.cert_area_m2, p.area_m2 AS measured_m2, o.built_m2, o.coverage, o.far"
        " FROM mine m LEFT JOIN parcel p USING (parcel_code)"
        " LEFT JOIN occupancy o ON o.parcel_code = m.parcel_code"
        "   AND o.run_id = (SELECT run_id FROM occ)"
        " ORDER BY array_position(ARRAY['owner', 'tenant', 'leased_out'], m.right_type),"
        " m.parcel_code", (code, code, code)))
    for r in found:
        r["right"] = RIGHT_ROLES.label(r["right_type"])
    return found
