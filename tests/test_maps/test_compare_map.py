"""`mujun map compare RUN_A RUN_B`: parcels coloured by their holder's class change.

Two real runs of the sample city (two rule sets, an adjustment in run A, as in
tests/test_scoring/test_compare.py); the per-parcel shift is checked against
``scoring.compare`` (the changed firms of ``compare_runs``), the legend against the
vocabulary, and the PNG and the offline page are written.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from maps.web.page import external_requests
from scoring.vocabulary import SHIFTS
from tests.cli_runner import fetch
from tests.cli_runner import run_mujun as run

pytestmark = [pytest.mark.postgis, pytest.mark.slow]


def _ok(argv, monkeypatch, db_dsn, capsys) -> str:
    code, out, err = run(argv, monkeypatch, db_dsn, capsys)
    assert code == 0, err
    return out


def test_compare_map_agrees_with_score_compare(db_conn, db_dsn, tmp_path, monkeypatch,
                                               capsys):
    from PIL import Image

    from maps.web.kinds import MapOptions, build_spec
    from sample.demo import DemoRun, stage_generate, stage_load, stage_occupancy
    from scoring.compare_runs import compare_runs

    demo = DemoRun(size="small", seed=5, root=tmp_path / "small-5", connect=lambda: db_conn)
    for stage in (stage_generate, stage_load, stage_occupancy):
        stage(demo)
    year = fetch(db_conn, "SELECT max(year) FROM enterprise_year")[0][0]
    runs = [json.loads(_ok(["score", "--ruleset", rs, "--year", str(year), "--json"],
                           monkeypatch, db_dsn, capsys))["run_id"]
            for rs in ("zhejiang-huangyan-2022", "jiangsu-huaian-2024")]
    code = fetch(db_conn, "SELECT trim(credit_code) FROM enterprise_score WHERE run_id = %s"
                          " AND class IN ('C', 'D') ORDER BY 1 LIMIT 1", (runs[0],))[0][0]
    _ok(["score", "override", code, "--class", "A", "--reason", "试验调档", "--by", "张三",
         "--run", str(runs[0])], monkeypatch, db_dsn, capsys)

    # per parcel: the holder's shift is the one score compare gives the firm
    cmp = compare_runs(db_conn, runs[0], runs[1])
    spec = build_spec(db_conn, "compare", MapOptions(runs=tuple(runs)))
    frame = spec.layers[0].frame
    changed = cmp.changed.set_index("credit_code")
    scored = {r[0] for r in fetch(db_conn, "SELECT DISTINCT trim(credit_code) FROM "
                                           "enterprise_score WHERE run_id = ANY(%s)", (runs,))}
    held = frame[frame["credit_code"].notna()]
    assert len(held) > 50
    seen = set()
    for _, p in frame.iterrows():
        holder = p["credit_code"]
        if isinstance(holder, str) and holder in changed.index:
            want = changed.loc[holder]
            assert (p["shift"], p["class_a"], p["class_b"]) == \
                (want["shift"], want["class_a"], want["class_b"]), p["parcel_code"]
        elif isinstance(holder, str) and holder in scored:
            assert p["shift"] == "same" and p["class_a"] == p["class_b"], p["parcel_code"]
        else:
            assert p["shift"] is None, p["parcel_code"]
        seen.add(p["shift"])
    assert {"up", "down", "same"} <= seen            # the two rule sets move firms both ways
    adjusted = frame[frame["credit_code"] == code]
    if len(adjusted):                                # the adjusted class A counts
        assert (adjusted["class_a"] == "A").all()
    # colours follow the shift; the legend words are the vocabulary's
    layer = spec.layers[0]
    cats = [c.value for c in layer.style.categories]
    for key, shift in zip(layer.keys, frame["shift"], strict=True):
        assert (cats[key] if key >= 0 else None) == shift
    words = {label for _, label in spec.legends[0]["rows"]}
    vocab = {t.zh for t in SHIFTS}
    assert {SHIFTS.label(s) for s in seen if s} <= words
    assert words - vocab <= {"无数据 / 未评价"}

    # the figure and the offline page, through the command
    png, html = tmp_path / "对比.png", tmp_path / "对比.html"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _ok(["map", "compare", str(runs[0]), str(runs[1]), "-o", str(png), "--dpi", "100"],
            monkeypatch, db_dsn, capsys)
    assert not [w for w in record if "missing from" in str(w.message)]
    rgb = np.asarray(Image.open(png).convert("RGB"))[::5, ::5].reshape(-1, 3)
    found = {tuple(c) for c in np.unique(rgb, axis=0)}
    for cat in layer.style.categories:               # every shift present is drawn
        if cat.value in seen:
            hexed = tuple(int(cat.colour[i:i + 2], 16) for i in (1, 3, 5))
            assert any(np.abs(np.subtract(c, hexed)).max() <= 40 for c in found), cat.value
    _ok(["map", "compare", str(runs[0]), str(runs[1]), "-o", str(html)], monkeypatch, db_dsn,
        capsys)
    text = html.read_text(encoding="utf-8")
    assert external_requests(text) == []
    for s in seen - {None}:
        label = SHIFTS.label(s)
        assert label in text or json.dumps(label)[1:-1] in text, label
    assert "评价等级变化" in text


def test_compare_map_needs_two_runs(db_dsn, tmp_path, monkeypatch, capsys):
    for argv in (["map", "compare", "1", "-o", str(tmp_path / "a.png")],
                 ["map", "classes", "1", "2", "-o", str(tmp_path / "a.png")]):
        code, _out, err = run(argv, monkeypatch, db_dsn, capsys)
        assert code == 2 and "两个评价运行号" in err, err
