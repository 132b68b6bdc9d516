"""Enterprise (XLSX and CSV) and land-right imports against a plain read plus COPY, same run.

mujun: ``import_enterprises`` on the city sample's ``dirty/enterprises.xlsx``
(about 117,000 rows under a title row and a merged two-row header, 万元 and
万千瓦时 units, planted defects; ``--accept-partial``) and on
``dirty/enterprises_2023.csv`` (GBK, 元), and ``import_land_rights`` on
``dirty/land_rights.csv``: read, header matching, units, every check, the
rejects file, the upserts, in one transaction each.

Baseline: the same file read with python-calamine (the workbook) or Python's
``csv`` module (the CSVs) and its cells COPYed as text into a plain table, no
checks. Both against the same server in the same run; the ratio is the figure
to watch (goal: at most 2).

Scaling: the first 10,000 data rows of each enterprise file are imported the
same way; the full file should take at most 12 times as long (linear work).
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

SEED = 42
SMALL_ROWS = 10_000


def _make_inputs(folder: Path) -> dict[str, Path]:
    """The city sample (without imagery) and 10,000-row cuts of its enterprise files."""
    import shutil

    import openpyxl
    from python_calamine import CalamineWorkbook

    from sample.generate import generate_city

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    city = generate_city("city", SEED, folder / "city", imagery=False)
    dirty = Path(city.paths["dirty"])
    xlsx, csv_path = dirty / "enterprises.xlsx", dirty / "enterprises_2023.csv"
    grid = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    small_xlsx = folder / "enterprises_10k.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("2024年")
    for row in grid[: 3 + SMALL_ROWS]:
        ws.append([None if v == "" else v for v in row])
    wb.save(small_xlsx)  # the header block is not merged here: names repeat across it instead
    small_csv = folder / "enterprises_2023_10k.csv"
    with open(csv_path, encoding="gbk", newline="") as src:
        lines = [next(src) for _ in range(SMALL_ROWS + 1)]
    small_csv.write_bytes("".join(lines).encode("gbk"))
    return {"xlsx": xlsx, "csv": csv_path, "land_rights": dirty / "land_rights.csv",
            "xlsx_10k": small_xlsx, "csv_10k": small_csv}


def _plain_rows(path: Path) -> list[list]:
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return list(csv.reader(io.StringIO(text)))


def baseline(conn, path: Path) -> float:
    """Seconds to read ``path`` plainly and COPY every cell as text into a plain table."""
    from psycopg import sql

    start = time.perf_counter()
    rows = _plain_rows(path)
    width = max(len(r) for r in rows)
    conn.execute("DROP TABLE IF EXISTS bench_plain")
    conn.execute(sql.SQL("CREATE TABLE bench_plain ({})").format(
        sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}"))
                           for i in range(width))))
    with conn.cursor().copy("COPY bench_plain FROM STDIN") as copy:
        for r in rows:
            copy.write_row([None if v == "" else str(v) for v in r]
                           + [None] * (width - len(r)))
    conn.commit()
    return time.perf_counter() - start


def _import(conn, kind: str, path: Path, rejects: Path) -> tuple[float, int]:
    from parcels.importing.enterprise_import import import_enterprises
    from parcels.importing.land_right_import import import_land_rights

    conn.execute("TRUNCATE enterprise, enterprise_year, land_right, import_batch "
                 "RESTART IDENTITY CASCADE")
    conn.commit()
    start = time.perf_counter()
    if kind == "land_rights":
        result = import_land_rights(conn, path, accept_partial=True, rejects=rejects,
                                    overwrite=True)
    else:
        result = import_enterprises(conn, path, year=2024 if path.suffix == ".xlsx" else 2023,
                                    accept_partial=True, rejects=rejects, overwrite=True)
    return time.perf_counter() - start, result.report.n_read


def main(size: str = "city") -> dict:
    """Time each import and its baseline; print the table of seconds and ratios."""
    import tempfile

    from benchmarks._cache import cached_inputs
    from benchmarks.bench_import import _bench_dsn
    from gis.db.connection import connect
    from gis.db.migrations import migrate
    from gis.settings import load_settings

    if size != "city":
        print(f"(the enterprise import benchmark runs at city size; --size {size} ignored)")
    inputs = cached_inputs("enterprise_import", _make_inputs)
    dsn = _bench_dsn(load_settings())
    rejects = Path(tempfile.mkdtemp()) / "rejects.csv"
    figures: dict[str, dict] = {}
    with connect(dsn) as conn:
        migrate(conn)
        for name in ("xlsx", "csv", "land_rights", "xlsx_10k", "csv_10k"):
            seconds, n = _import(conn, "land_rights" if name == "land_rights" else "enterprises",
                                 inputs[name], rejects)
            base = baseline(conn, inputs[name])
            figures[name] = {"rows": n, "mujun_s": round(seconds, 2),
                             "baseline_s": round(base, 2), "ratio": round(seconds / base, 2)}
            print(f"{name:12s} {n:>8d} rows  mujun {seconds:7.2f} s  plain read + COPY "
                  f"{base:6.2f} s  ratio {seconds / base:5.2f}", flush=True)
        conn.execute("DROP TABLE IF EXISTS bench_plain")
        conn.commit()
    for kind in ("xlsx", "csv"):
        full, small = figures[kind], figures[f"{kind}_10k"]
        growth = full["mujun_s"] / small["mujun_s"] if small["mujun_s"] else float("nan")
        rows = full["rows"] / small["rows"]
        figures[f"{kind}_growth"] = {"rows_ratio": round(rows, 1), "time_ratio": round(growth, 2)}
        print(f"{kind}: {rows:.1f}x the rows took {growth:.2f}x the time (goal: at most 12x)")
    return figures
