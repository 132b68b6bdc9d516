"""The COPY encoders on their own: bytes checked without a database (gis.db.encoding)."""

from __future__ import annotations

import datetime as dt
import json
import struct

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.db.encoding import (
    BINARY_SIGNATURE,
    BINARY_TRAILER,
    binary_chunk,
    binary_field,
    encode_frame,
    encode_geometries,
    text_chunk,
    text_column,
)
from gis.errors import DataError

SRID = 4549


def decode_binary(payload: bytes, types: list[str]) -> list[list]:
    """A reference reader of PostgreSQL's binary COPY rows (the spec, field by field)."""
    rows, pos = [], 0
    while pos < len(payload):
        (n,) = struct.unpack_from(">h", payload, pos)
        pos += 2
        row = []
        for typ in types[:n]:
            (length,) = struct.unpack_from(">i", payload, pos)
            pos += 4
            if length == -1:
                row.append(None)
                continue
            raw = payload[pos:pos + length]
            pos += length
            if typ == "integer":
                row.append(struct.unpack(">i", raw)[0])
            elif typ == "bigint":
                row.append(struct.unpack(">q", raw)[0])
            elif typ == "double precision":
                row.append(struct.unpack(">d", raw)[0])
            elif typ == "boolean":
                row.append(raw == b"\x01")
            elif typ == "date":
                row.append(dt.date(2000, 1, 1) + dt.timedelta(days=struct.unpack(">i", raw)[0]))
            elif typ == "jsonb":
                assert raw[:1] == b"\x01"           # jsonb's version byte
                row.append(json.loads(raw[1:].decode()))
            else:
                row.append(raw.decode("utf-8"))
        rows.append(row)
    return rows


def test_binary_rows_known_answer():
    fields = [binary_field(pd.Series([1], name="a"), "integer"),
              binary_field(pd.Series(["a"], name="b"), "text")]
    assert binary_chunk(fields) == (b"\x00\x02" + b"\x00\x00\x00\x04" + b"\x00\x00\x00\x01"
                                    + b"\x00\x00\x00\x01" + b"a")
    assert b"PGCOPY\n\xff\r\n\x00" + bytes(8) == BINARY_SIGNATURE and BINARY_TRAILER == b"\xff\xff"


texts = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                            blacklist_characters="\x00")))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-2**31, 2**31 - 1)),
                          st.one_of(st.none(), st.floats(allow_nan=False)),
                          texts, st.one_of(st.none(), st.booleans()),
                          st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
                          st.one_of(st.none(), st.dictionaries(st.text(max_size=3),
                                                               st.integers(-9, 9), max_size=2))),
                min_size=1, max_size=8))
def test_binary_rows_decode_to_the_values(rows):
    types = ["bigint", "double precision", "text", "boolean", "date", "jsonb"]
    columns = list(zip(*rows, strict=True))
    fields = [binary_field(pd.Series(list(col), dtype=object, name=f"c{i}"), typ)
              for i, (col, typ) in enumerate(zip(columns, types, strict=True))]
    assert decode_binary(binary_chunk(fields), types) == [list(r) for r in rows]


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, min_size=1, max_size=10))
def test_text_rows_escape_every_special_character(values):
    line = text_chunk([text_column(pd.Series(values, dtype=object), "text")]).decode()
    assert line.endswith("\n") and line.count("\n") == len(values)   # one line per row
    unescape = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
    for got, want in zip(line[:-1].split("\n"), values, strict=True):
        if want is None:
            assert got == "\\N"
            continue
        out, i = [], 0
        while i < len(got):
            if got[i] == "\\":
                out.append(unescape[got[i:i + 2]])
                i += 2
            else:
                out.append(got[i])
                i += 1
        assert "".join(out) == want


def test_text_integers_from_floats_with_gaps():
    assert list(text_column(pd.Series([1.0, np.nan, 3.0], name="n"), "integer")) == \
        ["1", "\\N", "3"]
    with pytest.raises(DataError, match=r"row 1: 2\.5 is not a whole number"):
        text_column(pd.Series([1.0, 2.5], name="n"), "integer")
    with pytest.raises(DataError, match="not a whole number"):
        binary_field(pd.Series([1.0, 2.5], name="n"), "integer")


polygons = st.builds(lambda x, y, w, h: shapely.box(x, y, x + w, y + h),
                     st.floats(-1e6, 1e6), st.floats(-1e6, 1e6),
                     st.floats(0.1, 1e3), st.floats(0.1, 1e3))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), polygons,
                          st.lists(polygons, min_size=1, max_size=3).map(shapely.MultiPolygon)),
                min_size=1, max_size=6), st.booleans())
def test_fast_ewkb_equals_the_geos_path(geoms, hex_):
    """The spliced EWKB headers give exactly GEOS's bytes for the promoted geometries."""
    got = encode_geometries(geoms, srid=SRID, target_type="MULTIPOLYGON", hex=hex_)
    for value, geom in zip(got, geoms, strict=True):
        if geom is None:
            assert value is None
            continue
        multi = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
        want = shapely.to_wkb(shapely.set_srid(multi, SRID), hex=hex_, include_srid=True)
        assert value == want


def test_ewkb_known_header_and_type_errors():
    ewkb = encode_geometries([shapely.box(0, 0, 1, 1)], srid=SRID, target_type="MULTIPOLYGON",
                             hex=False)[0]
    # little endian, MultiPolygon (6) with the SRID flag, SRID 4549, one part
    assert ewkb[:13] == b"\x01" + struct.pack("<I", 6 | 0x20000000) + struct.pack("<I", SRID) \
        + b"\x01\x00\x00\x00"
    with pytest.raises(DataError, match=r"1 geometries are not MULTIPOLYGON \(first: row 1, a "
                                        r"LINESTRING\)"):
        encode_geometries([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])],
                          srid=SRID, target_type="MULTIPOLYGON", column="parcel.geom")
    z = encode_geometries([shapely.Point(1, 2, 3)], srid=SRID, target_type="POINT", hex=False)
    assert shapely.from_wkb(z[0]).has_z is False                     # Z dropped for a 2D column


def test_encode_frame_checks_srid_against_the_column():
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"geom": [shapely.box(0, 0, 1, 1)]}, geometry="geom", crs=4547)
    target = {"geom": {"type": f"geometry(MultiPolygon,{SRID})"}}
    with pytest.raises(DataError, match=f"column wants SRID {SRID}, the data is SRID 4547"):
        encode_frame(frame, ["geom"], target, srid=None, format="binary", table_name="parcel")
    no_crs = frame.set_crs(None, allow_override=True)
    with pytest.raises(DataError, match="no SRID"):
        encode_frame(no_crs, ["geom"], {"geom": {"type": "geometry"}}, srid=None,
                     format="text", table_name="parcel")
