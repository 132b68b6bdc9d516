"""`mujun map land-tax --year Y`: parcels coloured by their holder's land-use tax finding.

The hand-built county of tests/test_scoring/test_land_tax_report.py (one firm per
finding); every parcel's finding and amounts are checked against
``scoring.land_tax.land_tax_check``, the legend against the vocabulary, and the page,
the figure and the GeoPackage are written through the command.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest

from maps.web.page import external_requests
from scoring.vocabulary import LAND_TAX_FIELDS, LAND_TAX_STATUS
from tests.cli_runner import run_mujun as run
from tests.test_scoring.county import mujun
from tests.test_scoring.test_land_tax_report import county  # noqa: F401

pytestmark = pytest.mark.postgis


def test_land_tax_map_agrees_with_the_check(county, db_conn, db_dsn, tmp_path,  # noqa: F811
                                            monkeypatch, capsys):
    from PIL import Image

    from maps.web.kinds import MapOptions, build_spec
    from scoring.land_tax import land_tax_check

    fs = county["firms"]
    table, _towns, _info = land_tax_check(db_conn, year=2022)
    per = table.set_index("credit_code")
    spec = build_spec(db_conn, "land-tax", MapOptions(year=2022))
    layer = spec.layers[0]
    frame = layer.frame.set_index("credit_code")
    assert len(frame) == 4                              # the stranger holds no parcel
    for f in fs:
        got, want = frame.loc[f.code], per.loc[f.code]
        assert got["status"] == want["status"], f.key
        assert got["tax_difference_yuan"] == want["tax_difference_yuan"], f.key
        assert got["taxed_m2"] == want["taxed_m2"], f.key
    assert sorted(frame["status"]) == sorted(["matched", "untaxed_land", "unregistered",
                                              "over_taxed"])
    # colours follow the finding; legend words come from the vocabulary, in its order
    cats = [c.value for c in layer.style.categories]
    assert cats == list(LAND_TAX_STATUS.codes())
    for key, status in zip(layer.keys, layer.frame["status"], strict=True):
        assert cats[key] == status
    words = [label for _, label in spec.legends[0]["rows"]]
    assert words == [LAND_TAX_STATUS.label(s) for s in LAND_TAX_STATUS.codes()]
    assert "元/年" in spec.legends[0]["note"]
    assert "少征" in LAND_TAX_STATUS.label("untaxed_land")

    # the page, the figure and the layer, through the command
    html, png, gpkg = (tmp_path / f"土地使用税.{s}" for s in ("html", "png", "gpkg"))
    mujun(["map", "land-tax", "--year", 2022, "-o", html], monkeypatch, db_dsn, capsys)
    text = html.read_text(encoding="utf-8")
    assert external_requests(text) == []
    for s in LAND_TAX_STATUS.codes():
        label = LAND_TAX_STATUS.label(s)
        assert label in text or json.dumps(label)[1:-1] in text, label
    header = LAND_TAX_FIELDS.label("tax_difference_yuan")           # popup header, in 元
    assert "元/年" in header and (header in text or json.dumps(header)[1:-1] in text)
    mujun(["map", "land-tax", "--year", 2022, "-o", png, "--dpi", "100"], monkeypatch,
          db_dsn, capsys)
    rgb = np.asarray(Image.open(png).convert("RGB"))[::3, ::3].reshape(-1, 3)
    found = {tuple(c) for c in np.unique(rgb, axis=0)}
    for cat in layer.style.categories:                   # every finding is drawn
        hexed = tuple(int(cat.colour[i:i + 2], 16) for i in (1, 3, 5))
        assert any(np.abs(np.subtract(c, hexed)).max() <= 40 for c in found), cat.value
    out = json.loads(mujun(["map", "land-tax", "--year", 2022, "-o", gpkg, "--json"],
                           monkeypatch, db_dsn, capsys))
    assert out["rows"] == 4
    written = gpd.read_file(gpkg, layer="land_tax").set_index("parcel_code")
    for code, row in layer.frame.set_index("parcel_code").iterrows():
        assert written.loc[code, "status"] == row["status"]
        assert written.loc[code, "tax_difference_yuan"] == pytest.approx(
            row["tax_difference_yuan"], abs=0.005)
    code, _out, err = run(["map", "land-tax", "--year", "2022", "-o", str(gpkg)],
                          monkeypatch, db_dsn, capsys)
    assert code != 0 and "--overwrite" in err and "Traceback" not in err
    # a kind without a parcel layer (towns) cannot be a .gpkg: one line, nothing written
    towns = tmp_path / "镇街.gpkg"
    code, _out, err = run(["map", "towns", "--year", "2022", "-o", str(towns)], monkeypatch,
                          db_dsn, capsys)
    assert code != 0 and ".gpkg" in err and "Traceback" not in err and not towns.exists()


def test_land_tax_map_needs_a_year_and_a_tax_base(county, db_dsn, tmp_path,  # noqa: F811
                                                  monkeypatch, capsys):
    code, _out, err = run(["map", "land-tax", "-o", str(tmp_path / "a.png")], monkeypatch,
                          db_dsn, capsys)
    assert code != 0 and "年份" in err and "Traceback" not in err
    code, _out, err = run(["map", "land-tax", "--year", "2019", "-o", str(tmp_path / "a.png")],
                          monkeypatch, db_dsn, capsys)
    assert code != 0 and "2019" in err and "Traceback" not in err
