"""The township verification loop: export problems to a workbook, apply the answers.

``export_queue`` finds records that cannot be matched (DOMAIN.md §2, the
Jieyang "closed loop"), records each as an open ``verification_item`` and
writes one sheet per problem type:

==================== =============================================== ==========================
sheet (kind)         problem                                         answer columns read back
==================== =============================================== ==========================
enterprise_no_land   enterprise with no ownership or tenancy link     land_parcel_code (+ right_type)
parcel_no_holder     parcel with no owner link                        holder_credit_code
unknown_code         link to a parcel/enterprise not in the database, corrected_credit_code,
                     or an industry code not in GB/T 4754-2017        corrected_parcel_code,
                                                                      corrected_industry_code
power_no_tax         electricity used but no (or zero) tax recorded   tax_wan
duplicate            one enterprise name under several credit codes   corrected_credit_code
zero_electricity     (score runs) zero electricity all year           electricity_kwh
tax_per_mu_high      (score runs) implausibly high tax per mu         tax_wan
records_no_land      (score runs) records but no occupied land        land_parcel_code (+ right_type)
land_no_records      (score runs) occupied land but no records        tax_wan, revenue_wan,
                                                                      electricity_kwh
yoy_jump             (score runs) a figure changed more than ×10      tax_wan, revenue_wan,
                                                                      electricity_kwh
account_unmatched    (imports) utility account of an unknown user     corrected_credit_code
==================== =============================================== ==========================

Items of the five score-run kinds, and ``power_no_tax`` items for near-zero (not only zero)
tax, are opened by score runs (``scoring.run``), which store them with ``detail.run_id``;
the export carries every such open item beside the problems it finds itself. Corrected
figures are written to ``enterprise_year`` for the item's year.

Every sheet also has ``action`` (``resolve``, default when an answer is given,
or ``dismiss``) and ``note``. ``apply_resolutions`` validates every answer
first, then applies all of them in one transaction recorded as a batch of
kind ``verification``; any invalid answer means nothing is applied.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis.importing.common import ImportResult, already_imported, earlier_import, rollback_quietly
from gis.importing.report import ImportReport
from gis.importing.values import is_blank, parse_number, parse_text
from parcels.codes import check_credit_code, normalize_credit_code
from parcels.errors import VerificationError
from parcels.vocabulary import VERIFICATION_KINDS

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

#: kind -> (Chinese sheet title, answer columns); titles from the vocabulary
#: (``verification.kind`` in parcels/data/terms.yaml).
_ANSWERS: dict[str, tuple[str, ...]] = {
    "enterprise_no_land": ("land_parcel_code", "right_type"),
    "parcel_no_holder": ("holder_credit_code",),
    "unknown_code": ("corrected_credit_code", "corrected_parcel_code",
                     "corrected_industry_code"),
    "power_no_tax": ("tax_wan",),
    "duplicate": ("corrected_credit_code",),
    "zero_electricity": ("electricity_kwh",),
    "tax_per_mu_high": ("tax_wan",),
    "records_no_land": ("land_parcel_code", "right_type"),
    "land_no_records": ("tax_wan", "revenue_wan", "electricity_kwh"),
    "yoy_jump": ("tax_wan", "revenue_wan", "electricity_kwh"),
    "account_unmatched": ("corrected_credit_code",),
}
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    kind: (VERIFICATION_KINDS.label(kind), answers) for kind, answers in _ANSWERS.items()}
#: Answer columns holding corrected annual figures (written to enterprise_year).
YEAR_FIGURES = ("tax_wan", "revenue_wan", "electricity_kwh")
INFO_COLUMNS = ("item_id", "town", "credit_code", "parcel_code", "problem")
COMMON_ANSWERS = ("action", "note")
#: Machine key -> the Chinese header township staff see (``verify apply`` reads either).
LABELS: dict[str, str] = {
    "item_id": "编号", "town": "乡镇", "credit_code": "统一社会信用代码", "parcel_code": "宗地代码",
    "problem": "问题", "land_parcel_code": "实际使用的宗地代码", "right_type": "权利类型（所有/租赁）",
    "holder_credit_code": "权利人统一社会信用代码", "corrected_credit_code": "更正后的信用代码",
    "corrected_parcel_code": "更正后的宗地代码", "corrected_industry_code": "更正后的行业代码",
    "tax_wan": "实缴税金（万元）", "revenue_wan": "营业收入（万元）",
    "electricity_kwh": "用电量（千瓦时）", "action": "处理（核实/忽略）", "note": "备注",
}
#: Words accepted in the action column.
ACTIONS = {"resolve": "resolve", "核实": "resolve", "已核实": "resolve", "解决": "resolve",
           "更正": "resolve", "dismiss": "dismiss", "忽略": "dismiss", "排除": "dismiss",
           "无需处理": "dismiss"}


def header_key(text: Any) -> str | None:
    """The machine key of a header cell, from its Chinese label or the key itself.

    Tolerates what an edit in Excel or WPS does to a header: blanks, line
    breaks, half-width brackets.

    Examples
    --------
    >>> header_key(" 编号 "), header_key("实缴税金(万元)"), header_key("tax_wan"), header_key("x")
    ('item_id', 'tax_wan', 'tax_wan', None)
    """
    from gis.importing.headers import normalize_label

    key = normalize_label(text)
    if not key:
        return None
    for name, label in LABELS.items():
        full = normalize_label(label)
        if key in (normalize_label(name), full, full.split("(")[0]):
            return name
    return None

# Each query yields (item_key, town, credit_code, parcel_code, problem text).
_QUERIES: dict[str, str] = {
    "enterprise_no_land": """
        SELECT e.credit_code, e.town, e.credit_code, NULL, '企业无用地: ' || e.name
        FROM enterprise e
        WHERE NOT EXISTS (SELECT 1 FROM land_right r WHERE r.credit_code = e.credit_code)
          AND (%(town)s::text IS NULL OR e.town = %(town)s)""",
    "parcel_no_holder": """
        SELECT p.parcel_code, p.town, NULL, p.parcel_code,
               '宗地无权利人, 面积 ' || round(p.area_m2::numeric, 1) || ' m²'
        FROM parcel p
        WHERE NOT EXISTS (SELECT 1 FROM land_right r
                          WHERE r.parcel_code = p.parcel_code AND r.right_type = 'owner')
          AND (%(town)s::text IS NULL OR p.town = %(town)s)""",
    "unknown_code": """
        SELECT 'link|' || r.land_right_id, coalesce(p.town, e.town), r.credit_code,
               r.parcel_code,
               concat_ws('; ', CASE WHEN p.parcel_id IS NULL THEN '宗地代码不存在' END,
                               CASE WHEN e.credit_code IS NULL THEN '信用代码不存在' END)
        FROM land_right r
        LEFT JOIN parcel p ON p.parcel_code = r.parcel_code
        LEFT JOIN enterprise e ON e.credit_code = r.credit_code
        WHERE (p.parcel_id IS NULL OR e.credit_code IS NULL)
          AND (%(town)s::text IS NULL OR coalesce(p.town, e.town) = %(town)s)
        UNION ALL
        SELECT 'industry|' || e.credit_code, e.town, e.credit_code, NULL,
               '行业代码不在 GB/T 4754-2017: ' || e.industry_code
        FROM enterprise e
        WHERE e.industry_code IS NOT NULL AND NOT (left(e.industry_code, 2) = ANY(%(divisions)s))
          AND (%(town)s::text IS NULL OR e.town = %(town)s)""",
    "power_no_tax": """
        SELECT y.credit_code || '|' || y.year, e.town, y.credit_code, NULL,
               y.year || '年用电 ' || round(y.electricity_kwh::numeric) || ' kWh, 税收 '
               || coalesce(y.tax_wan::text, '无')
        FROM enterprise_year y JOIN enterprise e USING (credit_code)
        WHERE y.electricity_kwh > 0 AND coalesce(y.tax_wan, 0) = 0
          AND (%(town)s::text IS NULL OR e.town = %(town)s)""",
    "account_unmatched": """
        SELECT 'account|' || a.kind || '|' || a.account_no || '|' || a.credit_code, e.town,
               nullif(a.credit_code, ''), NULL,
               a.kind || ' 户号 ' || a.account_no || ' ' || coalesce(a.holder_name, '')
               || CASE WHEN a.credit_code = '' THEN ': 无信用代码' ELSE ': 信用代码不存在' END
        FROM utility_account a LEFT JOIN enterprise e ON e.credit_code = a.credit_code
        WHERE NOT a.matched AND (%(town)s::text IS NULL OR e.town = %(town)s
                                 OR a.town = %(town)s)""",
    "duplicate": """
        SELECT e.credit_code, e.town, e.credit_code, NULL,
               '同名企业 ' || e.name || ' 有 ' || d.n || ' 个信用代码'
        FROM enterprise e
        JOIN (SELECT name, count(*) AS n FROM enterprise GROUP BY name HAVING count(*) > 1) d
          USING (name)
        WHERE (%(town)s::text IS NULL OR e.town = %(town)s)""",
}


def find_problems(conn: psycopg.Connection, town: str | None = None) -> dict[str, list[tuple]]:
    """Every current problem, by kind: lists of (key, town, credit code, parcel code, problem)."""
    from parcels.industry import divisions_2017

    params = {"town": town, "divisions": list(divisions_2017())}
    found = {kind: [tuple(r) for r in conn.execute(q, params).fetchall()]
             for kind, q in _QUERIES.items()}
    # items opened by score runs (detail.run_id), still open, not found again above
    stored = conn.execute(
        "SELECT kind, item_key, town, credit_code, parcel_code,"
        " coalesce(detail->>'problem', kind) || ' (' || coalesce(detail->>'year', '') || ')'"
        " FROM verification_item WHERE status = 'open' AND detail ? 'run_id'"
        " AND kind = ANY(%s) AND (%s::text IS NULL OR town = %s) ORDER BY kind, item_key",
        (list(KINDS), town, town)).fetchall()
    for kind, key, t, credit, parcel, problem in stored:
        rows = found.setdefault(kind, [])
        if all(str(r[0]) != key for r in rows):
            rows.append((key, t, credit, parcel, problem))
    return {kind: found[kind] for kind in KINDS if kind in _QUERIES or found.get(kind)}


def export_queue(conn: psycopg.Connection, out: str | Path, *, town: str | None = None,
                 overwrite: bool = False) -> dict[str, int]:
    """Record open verification items and write them to an XLSX workbook (committed).

    Items already open keep their id; items whose problem went away are left
    as they are (they close when resolved or on the next apply).

    Returns
    -------
    dict
        Number of items per kind.
    """
    import openpyxl
    from openpyxl.styles import Font

    from gis.atomic import atomic_output
    from gis.layer_writer.cells import keep_text

    problems = find_problems(conn, town)
    counts = {}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    try:
        for kind, found in problems.items():
            ids = _record_items(conn, kind, found)
            counts[kind] = len(ids)
            title, answers = KINDS[kind]
            ws = wb.create_sheet(title)
            ws.append([f"{title}（{kind}）：每行填写一个答案列，或在“处理”列填“忽略”；"
                       "请勿修改“编号”列"])
            keys = [*INFO_COLUMNS, *answers, *COMMON_ANSWERS]
            ws.append([LABELS.get(k, k) for k in keys])
            for cell in ws[2]:
                cell.font = Font(bold=True)
            for rec in ids:
                ws.append(list(rec))
                keep_text(ws[ws.max_row])   # a name such as '=HYPERLINK(…)' stays text
        with atomic_output(Path(out), overwrite=overwrite) as tmp:
            wb.save(tmp)
        conn.commit()
    except BaseException:
        rollback_quietly(conn)
        raise
    return counts


def _record_items(conn: psycopg.Connection, kind: str, found: list[tuple]) -> list[tuple]:
    """Open (or refresh) the items of one kind in one statement; ``(item_id, town, ...)`` rows.

    Each key once (the first finding wins), in the order found.
    """
    unique: dict[str, tuple] = {}
    for key, t, credit, parcel, problem in found:
        unique.setdefault(str(key), (t, credit and str(credit).strip(), parcel, problem))
    if not unique:
        return []
    keys = list(unique)
    towns, credits, parcels, problems = (list(col) for col in zip(*unique.values(), strict=True))
    ids = dict((key, item_id) for item_id, key in conn.execute(
        "INSERT INTO verification_item (kind, item_key, town, credit_code, parcel_code, detail) "
        "SELECT %s, k, t, c, p, jsonb_build_object('problem', pr) "
        "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
        "AS u(k, t, c, p, pr) "
        "ON CONFLICT (kind, item_key) WHERE status = 'open' "
        "DO UPDATE SET detail = EXCLUDED.detail RETURNING item_id, item_key",
        (kind, keys, towns, credits, parcels, problems)).fetchall())
    return [(ids[key], *unique[key]) for key in keys]


def _sheet_kind(title: str) -> str | None:
    title = title.strip()
    if title in KINDS:
        return title
    return next((k for k, (t, _) in KINDS.items() if t == title), None)


def _read_answers(path: Path) -> list[tuple[str, int, dict[str, Any]]]:
    """``(kind, spreadsheet row, {key: value})`` of every item row in the workbook."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:
        raise VerificationError(f"cannot open the workbook: {exc}; save it as .xlsx",
                                source=str(path)) from exc
    out = []
    titles = [ws.title for ws in wb.worksheets]
    if not any(_sheet_kind(t) for t in titles):
        wb.close()
        raise VerificationError(
            f"not a verification workbook: none of its sheets ({'、'.join(titles)}) is a sheet "
            "that `mujun verify export` writes (" + "、".join(t for t, _ in KINDS.values())
            + "); apply the workbook exported by `mujun verify export`, with the answers "
            "filled in", source=str(path))
    for ws in wb.worksheets:
        kind = _sheet_kind(ws.title)
        if kind is None:
            continue
        rows = list(ws.iter_rows(values_only=True))
        header_at = next((i for i, r in enumerate(rows[:6])
                          if r and "item_id" in [header_key(v) for v in r]), None)
        if header_at is None:
            raise VerificationError("no header row with 编号 (item_id)",
                                    source=f"{path}:{ws.title}")
        header = [header_key(h) or "" for h in rows[header_at]]
        for i, r in enumerate(rows[header_at + 1:], start=header_at + 2):
            rec = {h: v for h, v in zip(header, r, strict=False) if h}
            if is_blank(rec.get("item_id")):
                continue
            out.append((kind, i, rec))
    wb.close()
    return out


def _stored_items(conn: psycopg.Connection, cells: list[Any]) -> dict[int, tuple]:
    """``item_id -> (kind, status, credit_code, parcel_code, item_key)`` in one query."""
    ids = sorted({int(v) for v, problem in (parse_number(c) for c in cells)
                  if v is not None and problem is None and float(v).is_integer()})
    return {r[0]: tuple(r[1:]) for r in conn.execute(
        "SELECT item_id, kind, status, credit_code, parcel_code, item_key "
        "FROM verification_item WHERE item_id = ANY(%s)", (ids,)).fetchall()}


def _known_parcels(conn: psycopg.Connection, cells: list[Any]) -> set[str]:
    """The answered parcel codes that exist, in one query."""
    codes = sorted({str(c).strip().upper() for c in cells if not is_blank(c)})
    if not codes:
        return set()
    return {r[0] for r in conn.execute(
        "SELECT parcel_code FROM parcel WHERE parcel_code = ANY(%s)", (codes,)).fetchall()}


def apply_resolutions(conn: psycopg.Connection, path: str | Path, *,
                      dry_run: bool = False) -> ImportResult:
    """Apply a resolved workbook in one transaction (batch kind ``verification``).

    Raises
    ------
    parcels.errors.ImportRejected
        An answer is invalid (malformed code, unknown parcel, unknown item):
        nothing is applied; the message names sheet, row and reason.
    """
    from psycopg.types.json import Jsonb

    from gis.db.batches import finish_batch, start_batch
    from gis.importing.common import settle
    from parcels.industry import check_industry_code

    path = Path(path)
    report = ImportReport(source=str(path), unit="row")
    ident = earlier_import(conn, "verification", path)
    if ident.earlier is not None:
        return already_imported(conn, "verification", str(path), report, ident.earlier,
                                dry_run=dry_run)
    answers = _read_answers(path)
    report.n_read = len(answers)
    items = _stored_items(conn, [rec.get("item_id") for _, _, rec in answers])
    known_parcels = _known_parcels(conn, [rec.get(k) for _, _, rec in answers
                                          for k in ("land_parcel_code", "corrected_parcel_code")])
    plan: list[tuple[str, int, int, dict[str, Any], str]] = []
    for sheet, rownum, rec in answers:
        where = f"{KINDS[sheet][0]}/{sheet} row {rownum}"
        answer = {k: rec.get(k) for k in KINDS[sheet][1] if not is_blank(rec.get(k))}
        said = parse_text(rec.get("action"))
        action = ACTIONS.get(said.lower(), said.lower()) if said else ("resolve" if answer else "")
        if not action:
            continue
        item_id, problem = parse_number(rec.get("item_id"))
        item = None if item_id is None else items.get(int(item_id))
        rnum = len(plan) + 1
        if item is None or item[0] != sheet:
            report.add(rnum, "unknown_item", "error", f"{where}: no {sheet} item {rec.get('item_id')}")
            continue
        if item[1] != "open":
            report.add(rnum, "closed_item", "warning", f"{where}: item {int(item_id)} is already "
                       f"{item[1]}; skipped")
            continue
        if action not in ("resolve", "dismiss"):
            report.add(rnum, "bad_value", "error",
                       f"{where}: 处理 (action) must be 核实/resolve or 忽略/dismiss, not {said!r}")
            continue
        for key in ("holder_credit_code", "corrected_credit_code"):
            if key in answer:
                code = normalize_credit_code(answer[key])
                if check_credit_code(code) == "malformed":
                    report.add(rnum, "credit_code_malformed", "error",
                               f"{where}: {key} {answer[key]!r} is malformed")
                answer[key] = code
        for key in ("land_parcel_code", "corrected_parcel_code"):
            if key in answer:
                answer[key] = str(answer[key]).strip().upper()
                if answer[key] not in known_parcels:
                    report.add(rnum, "unknown_parcel", "error",
                               f"{where}: parcel {answer[key]} is not in the database")
        if "corrected_industry_code" in answer:
            code, status = check_industry_code(answer["corrected_industry_code"])
            if status != "ok":
                report.add(rnum, "industry_code", "error",
                           f"{where}: industry code {code!r} is {status}")
            answer["corrected_industry_code"] = code
        for key in YEAR_FIGURES:
            if key in answer:
                value, problem = parse_number(answer[key])
                if problem or value is None or value < 0:
                    report.add(rnum, "bad_value", "error", f"{where}: {key} {answer[key]!r}")
                answer[key] = value
        if action == "resolve" and not answer:
            report.add(rnum, "missing_field", "error", f"{where}: resolve needs an answer column")
        plan.append((sheet, rnum, int(item_id), {**answer, "note": rec.get("note")}, action))
    settle(report, accept_partial=False, source=str(path))
    applied = 0
    try:
        batch_id = start_batch(conn, "verification", str(path), source_sha256=ident.file_hash,
                               identity=ident.identity)
        # one round trip for all answers, in their order (pipeline mode), not one per answer
        with conn.pipeline():
            for _sheet, _, item_id, answer, action in plan:
                kind, _status, credit, parcel, key = items[item_id]
                if action == "resolve":
                    _apply_one(conn, kind, key, credit, parcel, answer, batch_id)
                conn.execute(
                    "UPDATE verification_item SET status = %s, resolved_at = now(), "
                    "resolution = %s, resolved_batch_id = %s WHERE item_id = %s",
                    ("resolved" if action == "resolve" else "dismissed",
                     Jsonb({k: (str(v) if v is not None else None) for k, v in answer.items()}),
                     batch_id, item_id))
                applied += 1
        report.n_loaded = report.n_updated = applied
        finish_batch(conn, batch_id, n_read=report.n_read, n_loaded=applied,
                     n_warnings=len(report.warnings), report=report.to_dict())
        conn.rollback() if dry_run else conn.commit()
    except BaseException:
        rollback_quietly(conn)
        raise
    return ImportResult("verification", str(path), report,
                        batch_id=None if dry_run else batch_id, dry_run=dry_run)


def _apply_one(conn: psycopg.Connection, kind: str, key: str, credit: str | None,
               parcel: str | None, answer: dict[str, Any], batch_id: int) -> None:
    if kind in ("enterprise_no_land", "records_no_land"):
        rtype = "tenant" if str(answer.get("right_type") or "").strip() in ("tenant", "租赁") \
            else "owner"
        conn.execute("INSERT INTO land_right (parcel_code, credit_code, right_type, batch_id) "
                     "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                     (answer["land_parcel_code"], credit, rtype, batch_id))
    elif kind == "parcel_no_holder":
        conn.execute("INSERT INTO land_right (parcel_code, credit_code, right_type, batch_id) "
                     "VALUES (%s, %s, 'owner', %s) ON CONFLICT DO NOTHING",
                     (parcel, answer["holder_credit_code"], batch_id))
    elif kind == "unknown_code" and key.startswith("link|"):
        link_id = int(key.split("|", 1)[1])
        if "corrected_credit_code" in answer:
            conn.execute("UPDATE land_right SET credit_code = %s, batch_id = %s "
                         "WHERE land_right_id = %s",
                         (answer["corrected_credit_code"], batch_id, link_id))
        if "corrected_parcel_code" in answer:
            conn.execute("UPDATE land_right SET parcel_code = %s, batch_id = %s "
                         "WHERE land_right_id = %s",
                         (answer["corrected_parcel_code"], batch_id, link_id))
    elif kind == "unknown_code":
        if "corrected_industry_code" in answer:
            conn.execute("UPDATE enterprise SET industry_code = %s, batch_id = %s "
                         "WHERE credit_code = %s",
                         (answer["corrected_industry_code"], batch_id, credit))
    elif kind == "power_no_tax":
        code, year = key.split("|")
        conn.execute("UPDATE enterprise_year SET tax_wan = %s, batch_id = %s "
                     "WHERE credit_code = %s AND year = %s",
                     (answer["tax_wan"], batch_id, code, int(year)))
    elif kind in ("zero_electricity", "tax_per_mu_high", "land_no_records", "yoy_jump"):
        code, year = key.split("|")
        figures = {k: answer[k] for k in YEAR_FIGURES if k in answer}
        if figures:
            from psycopg import sql

            cols = list(figures)
            conn.execute(
                sql.SQL("INSERT INTO enterprise_year (credit_code, year, {cols}, batch_id)"
                        " VALUES (%s, %s, {vals}, %s) ON CONFLICT (credit_code, year)"
                        " DO UPDATE SET {sets}, batch_id = EXCLUDED.batch_id").format(
                    cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
                    vals=sql.SQL(", ").join(sql.Placeholder() * len(cols)),
                    sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(
                        c=sql.Identifier(c)) for c in cols)),
                (code, int(year), *figures.values(), batch_id))
    elif kind == "account_unmatched" and "corrected_credit_code" in answer:
        _, akind, account, old = key.split("|", 3)
        conn.execute("UPDATE utility_account SET credit_code = %s, matched = EXISTS (SELECT 1"
                     " FROM enterprise WHERE credit_code = %s), town = (SELECT town FROM"
                     " enterprise WHERE credit_code = %s), batch_id = %s"
                     " WHERE kind = %s AND account_no = %s AND credit_code = %s",
                     (answer["corrected_credit_code"], answer["corrected_credit_code"],
                      answer["corrected_credit_code"], batch_id, akind, account, old))
    elif kind == "duplicate" and "corrected_credit_code" in answer:
        conn.execute("UPDATE land_right SET credit_code = %s, batch_id = %s "
                     "WHERE credit_code = %s",
                     (answer["corrected_credit_code"], batch_id, credit))
