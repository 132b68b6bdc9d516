"""Extracted footprints go into PostGIS through the one footprint loader, once."""

from __future__ import annotations

import json

from gis.importing.footprints import load_footprints
from remote_sensing.extract import extract_footprints, prepare_config
from remote_sensing.sinks import file_sink
from tests.cli_runner import mujun_process


def test_load_footprints_as_one_batch(small_scene, tmp_path, db_conn):
    out = tmp_path / "fp.gpkg"
    cfg, meta = prepare_config(method="ndsm", ndsm=small_scene["ndsm"], image=small_scene["rgbn"])
    with file_sink(out) as sink:
        res = extract_footprints(cfg, sink=sink, meta=meta)
    info = load_footprints(db_conn, out, method="ndsm")
    assert info.report.n_loaded == res.n_footprints and info.srid == 4547
    rows = db_conn.execute(
        "SELECT count(*), count(DISTINCT batch_id), min(image_date)::text, bool_and(ST_IsValid(geom)), "
        "min(method), count(attrs->'n_pixels'), count(image_id) FROM footprint").fetchone()
    assert rows == (res.n_footprints, 1, "2024-06-15", True, "ndsm", res.n_footprints,
                    res.n_footprints)
    batch = db_conn.execute("SELECT kind, n_loaded, identity IS NOT NULL FROM import_batch").fetchone()
    assert batch == ("footprints", res.n_footprints, True)
    again = load_footprints(db_conn, out, method="ndsm")
    assert again.already_imported and again.batch_id == info.batch_id
    assert db_conn.execute("SELECT count(*) FROM footprint").fetchone()[0] == res.n_footprints


def test_cli_load_flag(small_scene, tmp_path, db_dsn, db_conn):
    out = tmp_path / "fp.gpkg"
    proc = mujun_process("footprints", "extract", "--ndsm", str(small_scene["ndsm"]), "-o",
                         str(out), "--load", "--json", "--workers", "1", dsn=db_dsn, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    n = db_conn.execute("SELECT count(*) FROM footprint WHERE batch_id = %s", (data["load"]["batch_id"],)).fetchone()[0]
    assert n == data["footprints"] == data["load"]["n_loaded"]
    image = db_conn.execute("SELECT attrs ->> 'image' FROM survey WHERE batch_id = %s",
                            (data["load"]["batch_id"],)).fetchone()[0]
    assert image == str(small_scene["ndsm"].resolve())   # the survey records its image
    # extracting and loading the same output again does not duplicate a footprint
    proc = mujun_process("footprints", "extract", "--ndsm", str(small_scene["ndsm"]), "-o",
                         str(out), "--load", "--json", "--workers", "1", "--overwrite",
                         dsn=db_dsn, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["load"]["already_imported"]
    db_conn.rollback()
    assert db_conn.execute("SELECT count(*) FROM footprint").fetchone()[0] == n
