"""District scope of footprints, enterprises, land rights and surveys (issue 19, finding 9):
as the app role in the database, and through the real server's vector tiles."""

from __future__ import annotations

import math

import pytest

from tests.test_review.conftest import PASSWORD, SRID, login, start_session

pytestmark = pytest.mark.postgis


# ----------------------------------------------------- a small MVT reader (protobuf)
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def _fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:  # pragma: no cover - not in a vector tile
            raise ValueError(f"wire type {wire}")
        yield field, value


def _value(msg: bytes):
    for field, v in _fields(msg):
        if field == 1:
            return v.decode()
        if field in (4, 5):
            return v
        if field == 6:
            return (v >> 1) ^ -(v & 1)
    return None


def tile_ids(tile: bytes, prop: str = "id") -> set[int]:
    """The ``prop`` property of every feature of a Mapbox vector tile."""
    ids: set[int] = set()
    for field, layer in _fields(tile):
        if field != 3:
            continue
        keys, values, features = [], [], []
        for f, v in _fields(layer):
            if f == 3:
                keys.append(v.decode())
            elif f == 4:
                values.append(_value(v))
            elif f == 2:
                features.append(v)
        for feature in features:
            for f, tags in _fields(feature):
                if f == 2:
                    packed, i = [], 0
                    while i < len(tags):
                        n, i = _varint(tags, i)
                        packed.append(n)
                    for k, v in zip(packed[::2], packed[1::2], strict=True):
                        if keys[k] == prop:
                            ids.add(int(values[v]))
    return ids


def _tiles_over_the_seed(z: int) -> list[tuple[int, int]]:
    from pyproj import Transformer

    to_gk = Transformer.from_crs(4326, SRID, always_xy=True)
    to_ll = Transformer.from_crs(SRID, 4326, always_xy=True)
    x0, y0 = to_gk.transform(120.60, 31.20)
    (w, e), (s, n) = zip(to_ll.transform(x0 - 50, y0 - 50), to_ll.transform(x0 + 1600, y0 + 450),
                         strict=True)
    def tile(lon, lat):
        k = 2 ** z
        return (int((lon + 180) / 360 * k),
                int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k))
    (xa, ya), (xb, yb) = tile(w, n), tile(e, s)
    return [(x, y) for x in range(xa, xb + 1) for y in range(ya, yb + 1)]


@pytest.fixture(scope="module")
def no_area_user(review_dsn, seeded):
    """A viewer granted no district or town."""
    from gis.db.connection import connect
    from maps.review.users import add_user

    with connect(review_dsn) as conn:
        if not conn.execute("SELECT 1 FROM app_user WHERE username = 'no_area'").fetchone():
            add_user(conn, "no_area", PASSWORD, role="official")
            conn.commit()
    return "no_area"


def _expected_footprints(conn, where: str) -> set[int]:
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT f.footprint_id FROM footprint f JOIN parcel p"
        " ON ST_Intersects(f.geom, p.geom) WHERE " + where)}


def test_footprint_tiles_are_scoped(server, sessions, review_dsn, seeded, no_area_user):
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        east = _expected_footprints(conn, "p.district = '东区'")
        west = _expected_footprints(conn, "p.district = '西区'")
        jia = _expected_footprints(conn, "p.town = '甲镇'")
        seeded_all = {r[0] for r in conn.execute("SELECT footprint_id FROM footprint")}
    assert east and west and not east & west
    nobody, _resp = login(server, no_area_user)
    seen: dict[str, set[int]] = {"admin": set(), "off_east": set(), "off_west": set(),
                                 "plan_jia": set(), no_area_user: set()}
    users = dict(sessions, **{no_area_user: nobody})
    for x, y in _tiles_over_the_seed(16):
        admin_tile = users["admin"].get(f"/tiles/footprints/16/{x}/{y}.mvt")
        assert admin_tile.status_code == 200
        seen["admin"] |= tile_ids(admin_tile.content)
        for name in ("off_east", "off_west", "plan_jia", no_area_user):
            resp = users[name].get(f"/tiles/footprints/16/{x}/{y}.mvt")
            assert resp.status_code == 200
            seen[name] |= tile_ids(resp.content)
            if name == no_area_user:
                assert resp.content == b"", "a user with no area got footprints"
                assert admin_tile.content == b"" or resp.content != admin_tile.content
    assert seen["admin"] == seeded_all & seen["admin"] and east | west <= seen["admin"]
    assert seen["off_east"] == east
    assert seen["off_west"] == west
    assert seen["plan_jia"] == jia
    assert seen[no_area_user] == set()


def test_tables_follow_the_parcels_scope(app_conn_factory, review_dsn, seeded, no_area_user):
    """As the app role: enterprises, their figures and scores, land rights, footprints,
    surveys and survey changes of another district are not there; nothing without an area."""
    from gis.db.connection import connect

    tables = ("enterprise", "enterprise_year", "land_right", "footprint", "survey",
              "survey_change")
    with connect(review_dsn) as admin, app_conn_factory() as app:
        in_east = {
            "enterprise": "SELECT count(DISTINCT e.credit_code) FROM enterprise e"
                          " LEFT JOIN land_right lr ON lr.credit_code = e.credit_code"
                          " LEFT JOIN parcel p ON p.parcel_code = lr.parcel_code"
                          " WHERE p.district = '东区'",
            "land_right": "SELECT count(*) FROM land_right lr JOIN parcel p"
                          " ON p.parcel_code = lr.parcel_code WHERE p.district = '东区'",
            "footprint": "SELECT count(DISTINCT f.footprint_id) FROM footprint f JOIN parcel p"
                         " ON ST_Intersects(f.geom, p.geom) WHERE p.district = '东区'",
            "survey": "SELECT count(DISTINCT s.survey_id) FROM survey s JOIN parcel p"
                      " ON ST_Intersects(s.coverage, p.geom) WHERE p.district = '东区'",
        }
        expected = {t: admin.execute(q).fetchone()[0] for t, q in in_east.items()}
        west_codes = [r[0] for r in admin.execute(
            "SELECT DISTINCT lr.credit_code FROM land_right lr JOIN parcel p"
            " ON p.parcel_code = lr.parcel_code WHERE p.district = '西区'")]
        admin.rollback()
        start_session(app, admin, "off_east")
        for table, count in expected.items():
            assert app.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count, table
        for table in ("enterprise", "enterprise_year", "enterprise_score"):
            assert app.execute(f"SELECT count(*) FROM {table} WHERE credit_code = ANY (%s)",
                               (west_codes,)).fetchone()[0] == 0, table
        assert app.execute("SELECT count(*) FROM enterprise_year").fetchone()[0] > 0
        app.rollback()
        start_session(app, admin, no_area_user)
        for table in (*tables, "enterprise_score"):
            column = "credit_code" if table == "enterprise_score" else "*"
            assert app.execute(f"SELECT count({column}) FROM {table}").fetchone()[0] == 0, table
        app.rollback()
        start_session(app, admin, "admin")
        for table in ("enterprise", "land_right", "footprint", "survey"):
            assert app.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == admin.execute(
                f"SELECT count(*) FROM {table}").fetchone()[0], table


def test_footprint_tile_stays_on_its_index_under_rls(app_conn_factory, review_dsn, seeded):
    """The scope policy is a per-footprint probe of the parcel index, not a scan."""
    from gis.db.connection import connect

    with connect(review_dsn) as admin, app_conn_factory() as app:
        start_session(app, admin, "off_east")
        app.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in app.execute(
            "EXPLAIN SELECT footprint_id FROM footprint"
            " WHERE geom && ST_Transform(ST_TileEnvelope(16, 54723, 26746), 4549)"))
        assert "footprint_geom_idx" in plan and "parcel_geom_idx" in plan, plan
