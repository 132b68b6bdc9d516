"""End to end in headless Chromium (Debian's, driven by Playwright; no browser download).

An official logs in, filters, opens a candidate, decides and sees the audit entry; a
technician adds a field note with a photo. Every request the pages make must go to
the app itself, and the pages must run without Content-Security-Policy violations.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import pytest

from tests.test_review.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.postgis]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        message = ("Debian's chromium is missing; `scripts/bootstrap.sh chromium` installs it "
                   "(make test does)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(45_000)  # a busy CI machine
    pg.outside = []
    pg.problems = []
    host = urlparse(server).netloc
    pg.on("request", lambda r: pg.outside.append(r.url)
          if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
          and urlparse(r.url).netloc != host else None)
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    yield pg
    context.close()


def _until(condition, timeout=45.0):
    """Poll ``condition`` (the CSP forbids Playwright's string-eval wait_for_function)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.1)


def _login(page, server, username):
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    try:
        page.wait_for_selector("body[data-ready='1']", state="attached")
    except Exception as exc:
        shown = page.content()[:500]
        raise AssertionError(f"the page did not start: {page.problems} {page.outside} {shown}") \
            from exc


def test_official_filters_opens_decides_and_sees_the_audit_entry(page, server, seeded):
    _login(page, server, "off_east")
    rows = page.locator("#candidate-list tbody tr")
    assert rows.count() == len(seeded["东区"])
    page.select_option("#filter-town", "乙镇")
    page.select_option("#filter-status", "new")
    page.click("#apply-filters")
    _until(lambda: set(page.locator("#candidate-list tbody tr td:nth-child(5)")
                       .all_inner_texts()) == {"乙镇"})
    assert 0 < rows.count() < len(seeded["东区"])
    first = rows.first
    cid = int(first.get_attribute("data-id"))
    first.click()
    page.wait_for_selector("#detail:not([hidden]) #decision-status")
    assert page.locator("#detail-status").get_attribute("data-status") == "new"
    _until(lambda: page.locator("#map path.leaflet-interactive").count() > 0)
    page.select_option("#decision-status", "field_check")
    page.fill("#decision-comment", "需要实地核查 (browser)")
    page.click("#decision-submit")
    page.wait_for_selector("#detail-status[data-status='field_check']")
    last = page.locator("#history tbody tr").last
    assert last.locator(".actor").inner_text() == "off_east"
    assert last.locator(".comment").inner_text() == "需要实地核查 (browser)"
    assert "已保存" in page.inner_text("#message")
    # the map drew parcels and footprints from vector tiles, candidates from GeoJSON
    assert page.locator("#map .leaflet-tile-container svg, #map .leaflet-tile svg, "
                        "#map svg").count() > 0
    assert "已确认" in page.inner_text("#legend")   # status colours from maps.styles
    # every label shown is the vocabulary's: options, list, legend, evidence, history
    from scoring.land_status import vocabulary as terms

    codes = set()
    for vocab in terms.ALL.values():
        codes |= set(vocab.codes())
    options = page.locator("#filters option, #bulk option").all_inner_texts()
    assert not codes & {o.strip() for o in options}, options
    assert page.locator("#filter-sort option").all_inner_texts() == list(
        terms.SORTS.labels("zh").values())
    assert [o for o in page.locator("#bulk-reason option").all_inner_texts() if o] == list(
        terms.REASONS.labels("zh").values())
    assert set(page.locator("#candidate-list tbody td:nth-child(6)").all_inner_texts()) <= set(
        terms.STATUSES.labels("zh").values())
    panel = page.inner_text("#detail")
    assert "建筑系数 12.0% < 控制指标 30.0%" in panel, panel
    assert "{" not in panel and "coverage_below_control" not in panel
    assert "field_check" not in panel and "decided" not in panel
    assert page.locator("#history tbody tr").last.locator("td").nth(2).inner_text() == "人工决定"
    assert page.outside == [], page.outside
    assert page.problems == [], page.problems
    assert cid in seeded["东区"]


def test_technician_adds_a_field_note(page, server, seeded, tmp_path):
    from PIL import Image

    photo = tmp_path / "site.jpg"
    Image.new("RGB", (64, 48), (20, 120, 40)).save(photo, "JPEG")
    _login(page, server, "tech_east")
    assert page.locator("#decision").count() == 0 and page.locator("#bulk").count() == 0
    page.locator(f"#candidate-list tbody tr[data-id='{seeded['东区'][15]}']").click()
    page.wait_for_selector("#note-text")
    assert page.locator("#figures-hidden").count() == 1
    page.fill("#note-text", "现场：厂房无人使用")
    page.set_input_files("#note-photo", str(photo))
    page.click("#note-submit")
    page.wait_for_selector("#notes li img.thumb")
    assert "现场：厂房无人使用" in page.inner_text("#notes")
    thumb = page.locator("#notes li img.thumb").first
    _until(lambda: thumb.evaluate("img => img.complete && img.naturalWidth") == 64)
    assert page.outside == [] and page.problems == [], (page.outside, page.problems)


def test_english_interface(page, server):
    page.goto(server + "/login?lang=en")
    assert "Reclamation candidate review" in page.inner_text("h1")
    page.fill("#username", "viewer_east")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready='1']")
    assert page.inner_text("#logout") == "Log out"
    assert page.locator("#export-xlsx").count() == 0


def test_official_records_and_upholds_an_appeal(page, server, seeded, review_dsn):
    from gis.db.connection import connect
    from scoring.policy.terms import vocabularies
    from tests.test_review.conftest import credit_code

    code = credit_code(5)                                   # 甲镇, 东区
    with connect(review_dsn) as conn:                       # evaluated: a class to adjust
        conn.execute("UPDATE enterprise_score SET population = 'all' WHERE credit_code = %s",
                     (code,))
        conn.commit()
    _login(page, server, "off_east")
    page.click("#appeals-open")
    page.wait_for_selector("#appeal-kind option", state="attached")
    page.fill("#appeal-code", code)
    page.select_option("#appeal-kind", "class")
    page.select_option("#appeal-class", "A")
    page.fill("#appeal-claim", "成长型企业，研发投入大（浏览器）")
    page.click("#appeal-add-submit")
    page.wait_for_selector("#appeal-status[data-status='submitted']")
    assert page.inner_text("#appeal-status") == "已受理"
    page.select_option("#appeal-next", "upheld")
    page.fill("#appeal-reason", "经联席会议认定")
    page.fill("#appeal-approved-by", "赵六")
    page.click("#appeal-decide-submit")
    page.wait_for_selector("#appeal-status[data-status='upheld']")
    assert page.inner_text("#appeal-status") == "申诉成立"
    assert page.locator("#appeal-override").inner_text().strip().isdigit()
    last = page.locator("#appeal-history tbody tr").last
    assert last.locator(".actor").inner_text() == "off_east"
    assert last.locator(".reason").inner_text() == "经联席会议认定"
    # every word shown is the vocabulary's, never a code
    words = vocabularies()
    shown = page.locator("#appeals option, #appeal-list td, #appeal-history td").all_inner_texts()
    codes = set(words["appeal.kind"].codes()) | set(words["appeal.status"].codes())
    assert not codes & {s.strip() for s in shown}, shown
    assert "调档申诉" in page.inner_text("#appeal-list")
    assert page.outside == [] and page.problems == [], (page.outside, page.problems)


def test_official_opens_a_holders_enterprise_page(page, server, seeded):
    """From a candidate's holders to the firm's page (一企一档): header, panels, parcels on
    the imagery of the first and last survey; nothing fetched from outside, no CSP error."""
    from tests.test_review.conftest import credit_code

    code = credit_code(6)                                   # 甲镇, 东区, candidate 6
    cid = seeded["东区"][5]
    _login(page, server, "off_east")
    page.locator(f"#candidate-list tbody tr[data-id='{cid}']").click()
    link = page.locator(f"#enterprises a.enterprise-link:has-text('{code}')")
    link.wait_for()
    assert link.get_attribute("href") == f"/enterprises/{code}"
    problems, outside = [], []
    page.context.on("console", lambda m: problems.append(m.text)
                    if m.type == "error" and m.page is not page else None)
    page.context.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((server, "data:")) else None)
    with page.context.expect_page() as opened:
        link.click()
    firm = opened.value
    firm.wait_for_selector("#enterprise-page")
    assert firm.inner_text("#enterprise-name") == "测试企业6"
    titles = firm.locator("section.panel h2").all_inner_texts()
    assert titles[:3] == ["历年评价", "亩均效益（万元/亩）", "土地（平方米）"], titles
    assert "320500000000GB00006" in firm.inner_text("main")
    images = firm.locator("#imagery figure.survey-image img")
    assert images.count() == 2                              # the 2022 and the 2024 survey
    assert firm.locator("#imagery figcaption").all_inner_texts() == [
        "320500000000GB00006 第一次调查 2022-05-01", "320500000000GB00006 最近一次调查 2024-05-01"]
    _until(lambda: all(firm.evaluate("(img) => img.complete && img.naturalWidth > 0",
                                     images.nth(i).element_handle()) for i in range(2)))
    assert problems == [] and outside == [] and page.problems == [], (problems, outside)
