"""The dashboard in a real headless chromium (Debian's, installed by scripts/ensure-browser), against uvicorn.

A PR lead logs in, opens the replayed fridge incident, sees its chart, acknowledges and silences it; an analyst
labels a post with one key; ops pause a feed. Each action is checked in the database, not only on screen.
"""

import re
from pathlib import Path

import pytest
from test_web import ENV, PASSWORD, config_dir, copy_db, replayed_fridge, rows, top_incident

from monitor.config import load_config
from monitor.web import BackgroundServer, create_app
from monitor.web.store import connect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no {CHROMIUM}: run scripts/ensure-browser to install Debian's chromium",
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The dashboard over a copy of the replayed scenario, served by uvicorn on a random loopback port."""
    directory = tmp_path_factory.mktemp("browser")
    db_path = copy_db(replayed_fridge(tmp_path_factory), directory / "web.db")
    app = create_app(load_config(config_dir(directory)), db_path, environ=ENV)
    server = BackgroundServer(app, "127.0.0.1", 0)
    base_url = server.start()
    yield base_url, db_path
    server.stop()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data dir
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context, site):
    base_url, _ = site
    page = browser_context.new_page()
    page.goto(base_url + "/incidents")
    if "/login" in page.url:
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button.primary")
    assert page.url.endswith("/incidents")
    yield page
    page.close()


def open_top_incident(page, db_path: Path) -> dict:
    incident = top_incident(db_path)
    with page.expect_navigation():
        page.click(f'tr[data-id="{incident["id"]}"] td.title a')
    assert page.url.endswith(f"/incidents/{incident['id']}")
    return incident


def test_a_wrong_password_keeps_you_out(browser_context, site):
    base_url, _ = site
    browser_context.clear_cookies()  # the next test's page fixture logs in again
    page = browser_context.new_page()
    page.goto(base_url + "/incidents")
    assert "/login" in page.url
    page.fill("input[name=password]", "not the password")
    page.click("button.primary")
    page.wait_for_selector(".flash.error")
    assert "用户名或密码不对" in page.inner_text(".flash.error")
    assert "/login" in page.url
    page.close()


def test_open_an_incident_and_see_its_chart(page, site):
    _, db_path = site
    incident = open_top_incident(page, db_path)
    assert incident["title"] in page.inner_text("h1")
    chart = page.locator("#timeline svg.chart")
    box = chart.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 150
    bars = page.locator("#timeline rect[data-posts]")
    assert bars.count() > 3
    assert page.locator("#timeline rect[data-posts]").first.bounding_box()["height"] > 0
    assert page.locator("#timeline .severity-change").count() >= 1
    assert page.locator(".posts li.post").count() > 5


def test_acknowledge_and_silence_an_incident(page, site):
    _, db_path = site
    incident = open_top_incident(page, db_path)
    with page.expect_navigation():
        page.click("button#ack")
    assert "已确认" in page.inner_text(".flash")
    [ack] = rows(
        db_path, "select severity, acked_by from alerting_acks where incident_id = ?", [incident["id"]]
    )
    assert ack == {"severity": incident["severity"], "acked_by": "admin"}
    page.select_option("select[name=hours]", "24")
    with page.expect_navigation():
        page.click("button#silence")
    assert page.locator("#silence-state").is_visible()
    silences = rows(db_path, "select matchers, starts_at, ends_at from alerting_silences")
    assert any(incident["id"] in s["matchers"] for s in silences)


def test_label_a_post_with_one_key(page, site):
    base_url, db_path = site
    page.goto(base_url + "/labels?task=sentiment")
    current = page.locator(".label-item.current")
    source, post_id = current.get_attribute("data-source"), current.get_attribute("data-post-id")
    page.keyboard.press("1")  # 1 = 负面 (negative)
    page.wait_for_function(
        "id => !document.querySelector(`.label-item.current[data-post-id='${id}']`)", arg=post_id
    )
    assert "已标注" in page.inner_text("#label-status")
    labels = rows(
        db_path,
        "select label, labeller, origin from labels where source = ? and post_id = ? and task = 'sentiment'",
        [source, post_id],
    )
    assert labels == [{"label": "negative", "labeller": "admin", "origin": "web"}]
    next_id = page.locator(".label-item.current").get_attribute("data-post-id")
    assert next_id and next_id != post_id


def test_pause_a_feed(page, site):
    base_url, db_path = site
    page.goto(base_url + "/feeds")
    row = page.locator('tr[data-feed="brand-files"]')
    with page.expect_navigation():
        row.locator("button", has_text="暂停").click()
    assert rows(db_path, "select paused from feed_state where feed = 'brand-files'") == [{"paused": 1}]
    assert page.locator('tr[data-feed="brand-files"] .health-paused').is_visible()


def test_the_incident_list_refreshes_itself(page, site):
    base_url, db_path = site
    page.clock.install()
    page.goto(base_url + "/incidents")
    connect(db_path)["incidents"].insert(
        {
            "id": "fresh-critical",
            "title": "新出现的严重事件",
            "status": "new",
            "severity": "critical",
            "n_posts": 1,
        }
    )
    assert page.locator('tr[data-id="fresh-critical"]').count() == 0
    page.clock.run_for(16_000)  # the page polls /api/incidents every 15 s
    page.wait_for_selector('tr[data-id="fresh-critical"]')
    assert "新出现的严重事件" in page.inner_text("#incidents tbody")


def test_the_incident_page_fits_a_phone(browser_context, site, page):
    _, db_path = site
    incident = top_incident(db_path)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site[0]}/incidents/{incident['id']}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.locator("button#silence").is_visible() or page.locator("#silence-state").is_visible()
    assert re.search(r"\d", page.inner_text(".facts"))
