"""The enterprise page (一企一档) of the review app against the real server and database:
district scope (a firm elsewhere is 404), figures only for roles with 'figures' (absent
from the HTML, and refused by the database itself), and the page's figures equal to the
command line's file."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from tests.test_review.conftest import credit_code, start_session

pytestmark = pytest.mark.postgis

EAST = credit_code(3)      # 甲镇, 东区
EAST_B = credit_code(4)    # 甲镇, 东区
YI = credit_code(13)       # 乙镇, 东区
WEST = credit_code(23)     # 丙镇, 西区
#: Figures of EAST as they are printed (tax, revenue, score total).
TAX, REVENUE, TOTAL = 4321.5, 8765.25, 77.77


@pytest.fixture(scope="module")
def firms(review_dsn, seeded):
    """Three firms of the seeded run evaluated with land and figures from an import, and a
    warning on EAST."""
    from gis.db.connection import connect

    with connect(review_dsn) as conn:
        codes = [EAST, EAST_B, WEST]
        year_before = conn.execute(
            "SELECT tax_wan, revenue_wan, batch_id, sources FROM enterprise_year"
            " WHERE credit_code = %s AND year = 2024", (EAST,)).fetchone()
        score_before = conn.execute(
            "SELECT run_id, credit_code, population, land_m2, industry_division, rank_county,"
            " rank_town, rank_industry, total FROM enterprise_score"
            " WHERE credit_code = ANY(%s)", (codes,)).fetchall()
        batch = conn.execute("INSERT INTO import_batch (kind, source, finished_at) VALUES"
                             " ('enterprises', '/shared/税务局2024.csv', now())"
                             " RETURNING batch_id").fetchone()[0]
        conn.execute("UPDATE enterprise_year SET tax_wan = %s, revenue_wan = %s, batch_id = %s"
                     " WHERE credit_code = %s AND year = 2024", (TAX, REVENUE, batch, EAST))
        for code, land in ((EAST, 8000.0), (EAST_B, 6000.0), (WEST, 4000.0)):
            conn.execute("UPDATE enterprise_score SET population = 'all', land_m2 = %s,"
                         " industry_division = '34', rank_county = 2, rank_town = 1,"
                         " rank_industry = 1, total = CASE WHEN credit_code = %s THEN %s"
                         " ELSE total END WHERE credit_code = %s", (land, EAST, TOTAL, code))
        conn.execute("INSERT INTO verification_item (kind, item_key, credit_code, town, detail)"
                     " VALUES ('power_no_tax', %s, %s, '甲镇', '{\"problem\": \"用电量高但税收"
                     "接近零\"}')", (EAST + "|2024|page", EAST))
        conn.commit()
        try:
            yield review_dsn
        finally:
            # leave the shared seeded city as it was for the other modules
            conn.rollback()
            conn.execute("DELETE FROM verification_item WHERE item_key = %s",
                         (EAST + "|2024|page",))
            conn.execute("UPDATE enterprise_year SET tax_wan = %s, revenue_wan = %s,"
                         " batch_id = %s, sources = %s WHERE credit_code = %s AND year = 2024",
                         (*year_before[:3], Jsonb(year_before[3]), EAST))
            for run, code, *values in score_before:
                conn.execute("UPDATE enterprise_score SET population = %s, land_m2 = %s,"
                             " industry_division = %s, rank_county = %s, rank_town = %s,"
                             " rank_industry = %s, total = %s WHERE run_id = %s"
                             " AND credit_code = %s", (*values, run, code))
            conn.execute("DELETE FROM import_batch WHERE batch_id = %s", (batch,))
            conn.commit()


def test_scope_other_districts_are_not_found(sessions, firms):
    assert sessions["off_east"].get(f"/enterprises/{EAST}").status_code == 200
    assert sessions["off_east"].get(f"/enterprises/{WEST}").status_code == 404
    assert sessions["off_west"].get(f"/enterprises/{EAST}").status_code == 404
    assert sessions["off_west"].get(f"/enterprises/{WEST}").status_code == 200
    assert sessions["plan_jia"].get(f"/enterprises/{EAST}").status_code == 200
    assert sessions["plan_jia"].get(f"/enterprises/{YI}").status_code == 404   # town scope
    assert sessions["admin"].get(f"/enterprises/{WEST}").status_code == 200
    for junk in ("91330000MA00000000", "x" * 40, "<script>"):
        assert sessions["admin"].get(f"/enterprises/{junk}").status_code == 404
    import httpx

    anonymous = httpx.get(sessions["admin"].base + f"/enterprises/{EAST}", timeout=30,
                          follow_redirects=False)
    assert anonymous.status_code in (303, 401) and TAX_TEXT not in anonymous.text


TAX_TEXT, REVENUE_TEXT, TOTAL_TEXT = f"{TAX:,.2f}", f"{REVENUE:,.2f}", f"{TOTAL:,.2f}"


@pytest.mark.parametrize("user", ["off_east", "plan_jia", "admin"])
def test_roles_with_figures_see_them(sessions, firms, user):
    html = sessions[user].get(f"/enterprises/{EAST}").text
    assert "测试企业3" in html and EAST in html
    for text in (TAX_TEXT, REVENUE_TEXT, TOTAL_TEXT, "税务局2024.csv", "部门数据", "亩均效益",
                 "用电量高但税收接近零", "2/1/1"):
        assert text in html, text
    assert 'id="figures-hidden"' not in html


@pytest.mark.parametrize("user", ["viewer_east", "tech_east"])
def test_roles_without_figures_see_no_number(sessions, firms, user):
    html = sessions[user].get(f"/enterprises/{EAST}").text
    # header, land and candidates ...
    assert "测试企业3" in html and EAST in html and "土地" in html and "土地状态线索" in html
    assert "320500000000GB00003" in html and 'id="figures-hidden"' in html
    # ... but no figure: no tax, revenue, total, rank, source, warning, per-mu panel
    for text in (TAX_TEXT, REVENUE_TEXT, TOTAL_TEXT, "4321", "8765", "77.77", "2/1/1",
                 "税务局2024.csv", "部门数据", "亩均效益", "用电量高但税收接近零", "总分"):
        assert text not in html, text


def test_the_database_itself_refuses_figures_to_a_viewer(firms, app_conn_factory, review_dsn):
    from gis.db.connection import connect

    with connect(review_dsn) as admin, app_conn_factory() as app:
        run_id = admin.execute("SELECT run_id FROM enterprise_score WHERE credit_code = %s",
                               (EAST,)).fetchone()[0]
        start_session(app, admin, "viewer_east")
        for query, args in (
                ("SELECT count(*) FROM enterprise_score_figures WHERE credit_code = %s", (EAST,)),
                ("SELECT count(*) FROM mujun_per_mu_sums(%s, %s)", (run_id, EAST)),
                ("SELECT count(*) FROM import_batch", ()),
                ("SELECT count(*) FROM verification_item WHERE credit_code = %s", (EAST,)),
                ("SELECT count(*) FROM enterprise_year WHERE credit_code = %s", (EAST,))):
            assert app.execute(query, args).fetchone()[0] == 0, query
        assert app.execute("SELECT count(*) FROM occupancy").fetchone()[0] >= 0
        app.rollback()
        start_session(app, admin, "off_east")
        assert app.execute("SELECT count(*) FROM enterprise_score_figures WHERE credit_code"
                           " = ANY(%s)", ([EAST, WEST],)).fetchone()[0] == 1
        assert app.execute("SELECT count(*) FROM mujun_per_mu_sums(%s, %s)",
                           (run_id, WEST)).fetchone()[0] == 0       # another district's firm
        app.rollback()


def test_page_figures_equal_the_command_lines(firms, app_conn_factory, review_dsn):
    """The app's per-mu averages (a database function over every firm) are the command
    line's (pandas over every firm), though the official sees only its own district."""
    from gis.db.connection import connect
    from maps.enterprise_file import enterprise_file

    with connect(review_dsn) as admin, app_conn_factory() as app:
        owner = enterprise_file(admin, EAST)
        start_session(app, admin, "off_east")
        seen = enterprise_file(app, EAST, app=True)
        app.rollback()
    assert owner["per_mu"] and seen["per_mu"] == owner["per_mu"]
    assert seen["history"] == owner["history"] and seen["figures"] == owner["figures"]
    tax = owner["per_mu"][0]["tax_per_mu"]
    # EAST and EAST_B share division 34 and 甲镇; WEST only the division
    assert tax["value"] == pytest.approx(TAX / (8000 / (10000 / 15)), abs=1e-3)


def test_the_bureaus_panels_apply_to_the_page(firms, review_dsn):
    """`enterprise_panels` chooses the page's panels; an unknown one stops `mujun serve`."""
    from tests.cli_runner import mujun_popen
    from tests.test_review.conftest import login, serving

    with serving(review_dsn, env={"MUJUN_ENTERPRISE_PANELS": "imagery,land"}) as base:
        session, resp = login(base, "off_east")
        assert resp.status_code == 303
        html = session.get(f"/enterprises/{EAST}").text
    assert "土地（平方米）" in html and 'id="imagery"' in html and "测试企业3" in html
    for left_out in ("历年评价", "部门数据", "亩均效益", TAX_TEXT, TOTAL_TEXT):
        assert left_out not in html, left_out
    proc = mujun_popen("serve", "--port", "0", dsn=review_dsn,
                       env={"MUJUN_ENTERPRISE_PANELS": "land,taxes"})
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "未知的栏目：taxes" in err and "Traceback" not in err, err
