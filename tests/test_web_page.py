"""The planner's page end to end in a real headless browser (Debian's chromium, driven by
Selenium) against a real ``quotaplan serve`` process."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from benchmarks.bench_api import serve

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver (tests/browser.sh)"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("web") / "quotaplan.db") as url:
        yield url


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1300,1800",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def wait(browser, condition, timeout=120):
    return WebDriverWait(browser, timeout).until(lambda b: condition(b))


def run_plan(browser, target):
    box = browser.find_element(By.ID, "target")
    box.clear()
    box.send_keys(target)
    browser.find_element(By.ID, "run").click()
    wait(browser, lambda b: b.find_element(By.ID, "run").text == "Plan")


def test_upload_plan_look_compare_and_export(browser, server, downloads, tmp_path):
    from benchmarks.bench_api import call

    browser.get(server + "/")
    assert browser.title == "quotaplan"
    browser.find_element(By.ID, "use-sample").click()
    wait(browser, lambda b: "sample loaded" in b.find_element(By.ID, "data-status").text)

    run_plan(browser, "80M")
    rows = browser.find_elements(By.CSS_SELECTOR, "#plan-table tbody tr")
    assert len(rows) == 46
    assert "80.00M company number" in browser.find_element(By.ID, "summary").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-band circle.quota")) == 46
    assert "forecast band (P10-P90)" in browser.find_element(By.ID, "band-caption").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-phasing rect")) == 4
    browser.save_screenshot(str(tmp_path / "planned.png"))
    assert (tmp_path / "planned.png").stat().st_size > 10_000

    # Sorting: click "annual" twice, the largest quota comes first.
    header = browser.find_element(By.CSS_SELECTOR, 'th[data-key="annual_quota"]')
    header.click()
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="annual_quota"]').click()
    first = browser.find_element(By.CSS_SELECTOR, "#plan-table tbody tr").get_attribute("data-rep")
    plan_id = int(browser.find_element(By.ID, "summary").text.split()[1])
    status, plan = call(server, "GET", f"/v1/plans/{plan_id}")
    assert status == 200
    assert first == max(plan["reps"], key=lambda r: r["annual_quota"])["rep_id"]

    # An impossible number: the diagnosis appears next to the target, in words.
    run_plan(browser, "200M")
    error = browser.find_element(By.CSS_SELECTOR, '.error[data-for="target"]').text
    assert "exceeds realistic capacity" in error

    # The CSV download is the API's CSV of that plan.
    browser.find_element(By.ID, "export-csv").click()
    path = Path(downloads) / f"plan-{plan_id}.csv"
    wait(browser, lambda b: path.exists() and path.stat().st_size > 0, timeout=30)
    time.sleep(0.5)
    import urllib.request

    req = urllib.request.Request(f"{server}/v1/plans/{plan_id}", headers={"Accept": "text/csv"})
    with urllib.request.urlopen(req) as resp:
        assert path.read_bytes() == resp.read()
    browser.find_element(By.ID, "export-xlsx").click()
    book = Path(downloads) / f"plan-{plan_id}.xlsx"
    wait(browser, lambda b: book.exists() and book.stat().st_size > 0, timeout=30)

    # Scenarios side by side: a higher number, per-rep differences highlighted.
    run_plan(browser, "84M")
    assert "Compared with plan" in browser.find_element(By.ID, "compare-note").text
    assert browser.find_elements(By.CSS_SELECTOR, "#plan-table tr.changed")
    assert browser.find_element(By.CSS_SELECTOR, 'th[data-key="change"]').text == "vs previous"

    # A data problem in an uploaded file appears next to that file's field.
    bad = tmp_path / "roster.csv"
    bad.write_text("rep,team\nR00001,EMEA-1\n")
    browser.find_element(By.ID, "roster").send_keys(str(bad))
    run_plan(browser, "80M")
    error = browser.find_element(By.CSS_SELECTOR, '.error[data-for="roster"]').text
    assert "rep_id" in error, error


HOSTILE_TEAM = "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">"
HOSTILE_REP = "<svg onload=window.__pwned=2><b>R1"  # rep ids may not hold a slash


def test_a_hostile_roster_is_shown_as_text_and_runs_nothing(browser, server, tmp_path):
    """Finding 1 of issue 20: a roster whose team was markup ran script in the planner's page."""
    import pandas as pd

    from datasets.bundled import HISTORY_CSV, ROSTER_CSV

    roster = pd.read_csv(ROSTER_CSV, dtype=str)
    history = pd.read_csv(HISTORY_CSV, dtype=str)
    first = roster.loc[0, "rep_id"]
    roster.loc[roster["team"] == roster.loc[0, "team"], "team"] = HOSTILE_TEAM
    roster.loc[0, "rep_id"] = HOSTILE_REP
    history.loc[history["rep_id"] == first, "rep_id"] = HOSTILE_REP
    (tmp_path / "roster.csv").write_text(roster.to_csv(index=False))
    (tmp_path / "history.csv").write_text(history.to_csv(index=False))

    browser.get(server + "/")
    browser.find_element(By.ID, "history").send_keys(str(tmp_path / "history.csv"))
    browser.find_element(By.ID, "roster").send_keys(str(tmp_path / "roster.csv"))
    run_plan(browser, "80M")
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "#plan-table tbody tr")) == 46)
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.title == "quotaplan"
    assert not browser.find_elements(By.CSS_SELECTOR, "#plan-table img, #plan-table b")
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#plan-table tbody td")]
    assert HOSTILE_TEAM in cells and HOSTILE_REP in cells  # the text, literally
    titles = browser.execute_script(
        "return [...document.querySelectorAll('#chart-band title')].map(t => t.textContent)"
    )
    assert any(t.startswith(HOSTILE_REP + ":") for t in titles)
    # Had any markup slipped through, the page's policy forbids inline script anyway.
    csp = browser.execute_script(
        "return fetch('/').then(r => r.headers.get('Content-Security-Policy'))"
    )
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "Content Security Policy" in e["message"]], errors


def test_the_interactive_docs_render_under_the_policy(browser, server):
    browser.get(server + "/docs")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"), timeout=60)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) >= 20
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "Content Security Policy" in e["message"]], errors
