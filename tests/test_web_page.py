"""The planner's workspace at ``/`` end to end in a real headless browser (Debian's chromium,
driven by Selenium) against real ``quotaplan serve`` processes: one test per workflow.

An open server (no tokens) for planning, tracking, comparing and spreadsheets; a server with
tokens for the review workflows (a planner proposes, team and region approvers decide, a
company approver publishes). Waits are conditions (WebDriverWait), never fixed sleeps.

``QUOTAPLAN_SCREENSHOTS=1 pytest tests/test_web_page.py`` also writes the screenshots of
README.md's page section (docs/page-*.png); an ordinary run writes none.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.bench_api import serve

webdriver = pytest.importorskip("selenium.webdriver")
requests = pytest.importorskip("requests")
from selenium.common.exceptions import (  # noqa: E402
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from datasets.bundled import HISTORY_CSV, ROSTER_CSV  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver (tests/browser.sh)"
    ),
]
DOCS = Path(__file__).resolve().parents[1] / "docs"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDE, NARROW = 1400, 800

#: The tokens of the server with tokens: who, role, scope (the sample's R00001 is in EMEA-1).
PEOPLE = {
    "pat": ("planner", None),
    "tina": ("approver", "team:EMEA-1"),
    "rex": ("approver", "region:EMEA"),
    "cleo": ("approver", "company"),
}


# --- servers, browser and the API beside them -------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("web") / "quotaplan.db") as url:
        yield url


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A server with tokens (made with ``quotaplan token new``): its URL and each secret."""
    from click.testing import CliRunner

    from api.cli import main

    db = str(tmp_path_factory.mktemp("secured") / "quotaplan.db")
    secrets = {}
    for name, (role, scope) in PEOPLE.items():
        args = ["token", "new", "--role", role, "--name", name, "--database", db]
        out = CliRunner().invoke(main, args + (["--scope", scope] if scope else []))
        assert out.exit_code == 0, out.output
        secrets[name] = re.search(r"shown once: (\S+)", out.output).group(1)
    with serve(db) as url:
        yield url, secrets


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.add_argument(f"--window-size={WIDE},1600")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def api(url, method, path, body=None, token=None, files=None, data=None, accept=None):
    """One API call beside the browser: the response (JSON or bytes)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept:
        headers["Accept"] = accept
    resp = requests.request(
        method, url + path, json=body, files=files, data=data, headers=headers, timeout=120
    )
    return resp


_FORECASTS: dict[str, int] = {}


def stored_plan(url, target="80M", token=None, scenario="FY plan", **limits) -> dict:
    """A plan of the sample made through the API from a stored forecast (fitted once per
    server)."""
    if url not in _FORECASTS:
        files = {"history": HISTORY_CSV.read_bytes(), "roster": ROSTER_CSV.read_bytes()}
        made = api(url, "POST", "/v1/forecasts", files=files, token=token)
        assert made.status_code == 201, made.text
        _FORECASTS[url] = made.json()["id"]
    settings = {"scenario": scenario, "target": target, "forecast_id": _FORECASTS[url]}
    if limits:
        settings["limits"] = limits
    resp = api(
        url,
        "POST",
        "/v1/plans",
        files={"roster": ROSTER_CSV.read_bytes()},
        data={"settings": json.dumps(settings)},
        token=token,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- the page ---------------------------------------------------------------------------------


def wait(browser, condition, timeout=60):
    """Until ``condition(browser)`` is truthy; an element replaced meanwhile is looked up
    again on the next try (never held across a re-render)."""

    def attempt(b):
        try:
            return condition(b)
        except StaleElementReferenceException:
            return False

    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(attempt)


def find(browser, css):
    return browser.find_element(By.CSS_SELECTOR, css)


def finds(browser, css):
    return browser.find_elements(By.CSS_SELECTOR, css)


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def error(browser, field):
    return find(browser, f'.error[data-for="{field}"]').get_attribute("textContent")


def fill(browser, element, value):
    element.clear()
    element.send_keys(value)


def set_field(browser, element_id, value):
    fill(browser, browser.find_element(By.ID, element_id), value)


def open_page(browser, url, token=None, name=None):
    """The page, ready; with ``token``, used as ``name``'s (the page says who it is)."""
    browser.get(url + "/")
    wait(browser, lambda b: find(b, "body").get_attribute("data-ready") == "1")
    if token is not None:
        set_field(browser, "token", token)
        browser.find_element(By.ID, "use-token").click()
        wait(browser, lambda b: text(b, "me").startswith(name + ",") and not error(b, "me"))


def tab(browser, screen):
    find(browser, f'#tabs a[data-screen="{screen}"]').click()
    wait(browser, lambda b: b.find_element(By.ID, screen).is_displayed())


def plan_now(browser):
    """Press Plan and wait until the page has its answer (a plan or a problem)."""
    before = find(browser, "body").get_attribute("data-planned") or "0"
    browser.find_element(By.ID, "run").click()
    wait(browser, lambda b: (find(b, "body").get_attribute("data-planned") or "0") != before, 120)


def use_sample(browser):
    browser.find_element(By.ID, "use-sample").click()
    wait(browser, lambda b: "sample loaded" in text(b, "data-status"))


def plan_id(browser) -> int:
    return int(text(browser, "summary").split()[1])


def row(browser, table, rep):
    return find(browser, f'#{table} tbody tr[data-rep="{rep}"]')


def cells(browser, css):
    return [td.text for td in finds(browser, css + " td")]


def shot(browser, name, element_id=None):
    """docs/page-<name>.png, only when QUOTAPLAN_SCREENSHOTS is set."""
    if not os.environ.get("QUOTAPLAN_SCREENSHOTS"):
        return
    if element_id:
        browser.find_element(By.ID, element_id).screenshot(str(DOCS / f"page-{name}.png"))
    else:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        width = browser.get_window_size()["width"]
        browser.set_window_size(width, min(height + 120, 4000))
        browser.save_screenshot(str(DOCS / f"page-{name}.png"))
        browser.set_window_size(width, 1600)


def no_page_scroll_sideways(browser):
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def no_policy_errors(browser):
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "Content Security Policy" in e["message"]], errors
    assert not [e for e in errors if "Uncaught" in e["message"]], errors


# --- 1. plan with locks and team targets; re-plan from the stored forecast --------------------


def test_plan_with_locks_and_team_targets(browser, server, tmp_path):
    # History as a workbook, the roster as Parquet: the server tells them apart by content.
    pd.read_csv(HISTORY_CSV, dtype=str).to_excel(tmp_path / "history.xlsx", index=False)
    pd.read_csv(ROSTER_CSV, dtype=str).to_parquet(tmp_path / "roster.parquet", index=False)
    open_page(browser, server)
    assert browser.title == "quotaplan"
    # The limits start at the API's defaults (from its OpenAPI document).
    assert browser.find_element(By.ID, "cap_quantile").get_attribute("value") == "0.9"
    assert browser.find_element(By.ID, "max_increase").get_attribute("value") == "25%"
    assert browser.find_element(By.ID, "smoothness").get_attribute("value") == ""
    browser.find_element(By.ID, "history").send_keys(str(tmp_path / "history.xlsx"))
    browser.find_element(By.ID, "roster").send_keys(str(tmp_path / "roster.parquet"))
    plan_now(browser)  # makes and stores the forecast (a job), then plans from it
    made = re.search(r"forecast #(\d+): 46 reps", text(browser, "data-status"))
    _FORECASTS[server] = int(made.group(1))  # the later tests plan from it too: fitted once
    # The fit ran as a job: its stages were shown, then what it came to.
    assert re.match(r"forecast job #\d+ succeeded after \d+ updates", text(browser, "job-done"))
    first = plan_id(browser)
    assert "80.00M company number" in text(browser, "summary")
    assert len(finds(browser, "#plan-table tbody tr[data-rep]")) == 46
    assert len(finds(browser, "#plan-table tbody tr.subtotal")) == 4  # one per team
    assert "80.00M" in find(browser, "#plan-table tfoot tr").text
    assert len(finds(browser, "#chart-band circle.quota")) == 46
    assert "forecast band (P10-P90)" in text(browser, "band-caption")
    labels = [t.text for t in finds(browser, "#chart-band text.rep-label")]
    assert len(labels) >= 3  # the top three quotas at least, by name
    assert len(finds(browser, "#chart-band text.tick")) >= 3  # a y axis with ticks
    assert len(finds(browser, "#chart-phasing rect")) == 4

    # A team target and two locks (annual and quarterly), then plan again from the forecast.
    browser.find_element(By.ID, "add-team-target").click()
    fill(browser, find(browser, "#team-targets .group-name"), "EMEA-1")
    fill(browser, find(browser, "#team-targets .group-amount"), "30M")
    for rep, period, quota in (("R00001", "", "2.5M"), ("R00003", "2026Q1", "400k")):
        browser.find_element(By.ID, "add-lock").click()
        lock = finds(browser, "#locks .lock-row")[-1]
        fill(browser, lock.find_element(By.CSS_SELECTOR, ".lock-rep"), rep)
        Select(lock.find_element(By.CSS_SELECTOR, ".lock-period")).select_by_value(period)
        fill(browser, lock.find_element(By.CSS_SELECTOR, ".lock-quota"), quota)
    assert "settings changed since plan" in text(browser, "stale")
    plan_now(browser)
    assert plan_id(browser) == first + 1
    assert not browser.find_element(By.ID, "stale").is_displayed()
    # Nothing fitted again: planned from the forecast the first plan stored (not timed: on a
    # busy machine the niced planning process gives way to other work).
    said = re.search(
        r"planned in [0-9.]+ s from the stored forecast #(\d+)", text(browser, "plan-time")
    )
    assert said and int(said.group(1)) == _FORECASTS[server], text(browser, "plan-time")
    print(text(browser, "plan-time"))  # how long it took, as the page measured it
    plan = api(server, "GET", f"/v1/plans/{plan_id(browser)}").json()
    reps = {r["rep_id"]: r for r in plan["reps"]}
    assert reps["R00001"]["annual_quota"] == pytest.approx(2.5e6, rel=1e-6)
    q1 = next(q for q in plan["quotas"] if q["rep_id"] == "R00003" and q["period"] == "2026Q1")
    assert q1["quota"] == pytest.approx(4e5, rel=1e-6)
    emea1 = sum(r["annual_quota"] for r in plan["reps"] if r["team"] == "EMEA-1")
    assert emea1 == pytest.approx(30e6, rel=1e-6)
    assert "2.50M" in row(browser, "plan-table", "R00001").text
    periods = [Select(x).first_selected_option.text for x in finds(browser, ".lock-period")]
    assert periods == ["annual", "2026Q1"]  # the locks as they were planned, still on screen
    assert "30.00M" in find(browser, '#plan-table tr.subtotal[data-team="EMEA-1"]').text
    assert finds(browser, "#plan-table tr.changed")  # against the plan before
    assert find(browser, 'th[data-key="change"]').text == "vs previous"
    shot(browser, "plan")

    # Usable at 800 px: nothing makes the page scroll sideways.
    browser.set_window_size(NARROW, 1600)
    wait(browser, lambda b: b.execute_script("return window.innerWidth") <= NARROW)
    assert no_page_scroll_sideways(browser)
    shot(browser, "plan-800")
    browser.set_window_size(WIDE, 1600)
    assert no_page_scroll_sideways(browser)

    # A refused limit: the API's message next to that field, the plan on screen marked stale.
    set_field(browser, "cap_quantile", "1.5")
    plan_now(browser)
    assert "less than 1" in error(browser, "cap_quantile")
    assert "NOT the plan of these settings" in text(browser, "stale")
    assert "is-stale" in find(browser, "#result").get_attribute("class")
    assert all(not b.is_enabled() for b in finds(browser, "#plan-table .open-rep"))
    # The optimizer's own refusal names its field too (a floor above the cap).
    set_field(browser, "cap_quantile", "0.9")
    set_field(browser, "floor_quantile", "0.95")
    plan_now(browser)
    assert "floor_quantile must be between" in error(browser, "floor_quantile")
    # An impossible number: the diagnosis next to the number, in words.
    set_field(browser, "floor_quantile", "0.1")
    set_field(browser, "target", "200M")
    plan_now(browser)
    assert "exceeds realistic capacity" in error(browser, "target")
    # Its fix as a button: the largest possible number goes into the field, and it plans.
    fix = next(b for b in finds(browser, "#fixes button") if "lower the number" in b.text)
    fix.click()
    assert 80e6 < float(browser.find_element(By.ID, "target").get_attribute("value")) < 200e6
    plan_now(browser)
    assert not error(browser, "target"), error(browser, "target")
    assert not browser.find_element(By.ID, "stale").is_displayed()
    set_field(browser, "target", "80M")
    plan_now(browser)
    assert not browser.find_element(By.ID, "stale").is_displayed()
    assert not error(browser, "target") and not error(browser, "cap_quantile")
    # The other goal: the share of reps who should reach quota, instead of a number.
    browser.find_element(By.ID, "goal-attainment").click()
    set_field(browser, "attainment", "70%")
    plan_now(browser)
    made = api(server, "GET", f"/v1/plans/{plan_id(browser)}/inputs").json()
    assert made["attainment"] == pytest.approx(0.7) and "target" not in made
    assert not browser.find_element(By.ID, "target").is_enabled()
    no_policy_errors(browser)


# --- 2. one rep's adjustment: preview, propose, two approvers decide --------------------------


def open_stored(browser, plan):
    """Open a stored plan from the Scenarios screen (the list is the API's: it survives a
    reload)."""
    tab(browser, "scenarios-screen")
    wait(browser, lambda b: finds(b, f'#stored-table tr[data-plan="{plan["id"]}"]'))
    find(browser, f'#stored-table tr[data-plan="{plan["id"]}"] .open-plan').click()
    wait(
        browser,
        lambda b: b.find_element(By.ID, "result").is_displayed() and plan_id(b) == plan["id"],
    )


def decide(browser, adjustment_id, decision, comment):
    """Type the comment and press approve or reject in the queue's row (found again on each
    try: the queue re-renders when it is refreshed)."""
    css = f'#queue-table tr[data-adjustment="{adjustment_id}"]'

    def act(b):
        try:
            fill(b, find(b, css + " .decision-comment"), comment)
            find(b, f"{css} .{decision}").click()
            return True
        except (NoSuchElementException, ElementNotInteractableException):
            return False

    wait(browser, act)
    wait(browser, lambda b: not finds(b, css))


def test_adjust_one_rep_and_approve_with_other_tokens(browser, secured):
    url, token = secured
    plan = stored_plan(url, token=token["pat"])
    before = {r["rep_id"]: r["annual_quota"] for r in plan["reps"]}
    open_page(browser, url, token["pat"], "pat")
    assert text(browser, "me") == "pat, planner"
    open_stored(browser, plan)

    row(browser, "plan-table", "R00001").find_element(By.CSS_SELECTOR, ".open-rep").click()
    wait(browser, lambda b: text(b, "rep-title").startswith("R00001 (EMEA-1)"))
    assert finds(browser, "#rep-explanation li")  # how the number was set, in words
    new = round(before["R00001"] * 0.96, -3)
    set_field(browser, "adjust-quota", f"{new:.0f}")
    set_field(browser, "adjust-reason", "lost the ACME territory")
    assert not browser.find_element(By.ID, "adjust-send").is_enabled()  # preview first
    browser.find_element(By.ID, "adjust-preview").click()
    wait(browser, lambda b: b.find_element(By.ID, "preview").is_displayed())
    moved = finds(browser, "#preview-table tbody tr")
    assert len(moved) >= 2  # the rep and the teammates who take up the difference
    assert "nothing is stored yet" in text(browser, "preview-summary")
    heads = [th.text for th in finds(browser, "#preview-table th")]
    assert "limit that binds" in heads and "moves by" in heads
    assert "adjustment" in row(browser, "preview-table", "R00001").text
    shot(browser, "adjust", "rep-panel")
    browser.find_element(By.ID, "adjust-send").click()
    wait(
        browser,
        lambda b: "sent: waits for team:EMEA-1, then region:EMEA" in text(b, "adjust-status"),
    )
    adjustment = int(re.search(r"#(\d+)", text(browser, "adjust-status")).group(1))
    # The proposer has no queue: a planner decides nothing (and nobody decides their own).
    tab(browser, "review-screen")
    wait(browser, lambda b: "Only approvers" in text(b, "queue-note"))
    pending = f'#adjustments-table tr[data-adjustment="{adjustment}"][data-status="pending"]'
    wait(browser, lambda b: finds(b, pending))

    # Team EMEA-1's approver, then the region's: each sees it in their queue and decides.
    open_page(browser, url, token["tina"], "tina")
    tab(browser, "review-screen")
    wait(browser, lambda b: finds(b, f'#queue-table tr[data-adjustment="{adjustment}"]'))
    queued = f'#queue-table tr[data-adjustment="{adjustment}"]'
    wait(browser, lambda b: "lost the ACME territory" in find(b, queued).text)
    assert re.search(r"\d+ reps move", find(browser, queued).text)  # the rebalance, folded
    shot(browser, "review")
    decide(browser, adjustment, "approve", "agreed with the team")
    open_page(browser, url, token["rex"], "rex")
    tab(browser, "review-screen")
    decide(browser, adjustment, "approve", "fine for EMEA")
    # The last approval applies it: the plan on screen shows the rep's new number.
    tab(browser, "plan-screen")
    wait(browser, lambda b: "adjustment" in row(b, "plan-table", "R00001").text)
    after = api(url, "GET", f"/v1/plans/{plan['id']}", token=token["rex"]).json()
    mine = {r["rep_id"]: r["annual_quota"] for r in after["reps"]}
    assert mine["R00001"] == pytest.approx(new, rel=1e-6)
    assert sum(mine.values()) == pytest.approx(sum(before.values()), rel=1e-9)
    # The rep's audit trail: proposed, approved twice, with the comments.
    row(browser, "plan-table", "R00001").find_element(By.CSS_SELECTOR, ".open-rep").click()
    wait(browser, lambda b: len(finds(b, "#rep-audit li[data-action^='adjustment:']")) >= 3)
    trail = text(browser, "rep-audit")
    assert "lost the ACME territory" in trail and "fine for EMEA" in trail and "tina" in trail
    no_policy_errors(browser)


# --- 3. publish: draft -> in review -> approved -> published, buttons by role -----------------


def buttons(browser):
    return [b.text for b in finds(browser, "#state-buttons button")]


def test_a_wrong_token_is_said_at_the_token_field(browser, secured):
    url, token = secured
    open_page(browser, url)
    set_field(browser, "token", "not-a-token")
    browser.find_element(By.ID, "use-token").click()
    wait(browser, lambda b: error(b, "me"))
    assert "type it above and press Use" in error(browser, "me")
    assert text(browser, "me") == ""  # nobody is signed in
    set_field(browser, "token", token["pat"])  # a right one clears it
    browser.find_element(By.ID, "use-token").click()
    wait(browser, lambda b: text(b, "me").startswith("pat,") and not error(b, "me"))


def test_publish_with_the_buttons_each_role_may_use(browser, secured):
    url, token = secured
    plan = stored_plan(url, "82M", token=token["pat"])
    open_page(browser, url, token["pat"], "pat")
    open_stored(browser, plan)
    assert text(browser, "state-badge") == "draft"
    assert buttons(browser) == ["Send for review"]
    set_field(browser, "state-comment", "ready for the region heads")
    find(browser, '#state-buttons button[data-to="in_review"]').click()
    wait(browser, lambda b: text(b, "state-badge") == "in review")
    assert buttons(browser) == []  # a planner cannot approve

    open_page(browser, url, token["tina"], "tina")  # the page reopens the last plan
    wait(browser, lambda b: b.find_element(By.ID, "result").is_displayed())
    assert plan_id(browser) == plan["id"] and buttons(browser) == []  # a team approver neither
    open_page(browser, url, token["cleo"], "cleo")
    wait(browser, lambda b: b.find_element(By.ID, "result").is_displayed())
    assert buttons(browser) == ["Approve the plan", "Send back to draft"]
    find(browser, '#state-buttons button[data-to="approved"]').click()
    wait(browser, lambda b: text(b, "state-badge") == "approved")
    assert buttons(browser) == ["Publish"]
    find(browser, '#state-buttons button[data-to="published"]').click()
    wait(browser, lambda b: text(b, "state-badge") == "published")
    assert buttons(browser) == []
    assert (
        api(url, "GET", f"/v1/plans/{plan['id']}", token=token["cleo"]).json()["state"]
        == "published"
    )
    tab(browser, "review-screen")
    wait(browser, lambda b: len(finds(b, "#plan-audit li[data-action^='state:']")) == 3)
    trail = text(browser, "plan-audit")
    assert "ready for the region heads" in trail and "cleo" in trail

    def books_shown(b):
        levels = {r.get_attribute("data-level"): r.text for r in finds(b, "#books-table tbody tr")}
        return levels if "company:company" in levels else None

    books = wait(browser, books_shown)  # one set of books: company, regions, teams
    assert (
        "82.00M" in books["company:company"] and "team:EMEA-1" in books and "region:AMER" in books
    )
    no_policy_errors(browser)


# --- 4. in-year: bookings, pace, flags, relief adopted through the re-plan --------------------


def bookings(plan) -> pd.DataFrame:
    """Monthly bookings through April: each rep at their own pace (40% to 130% of quota)."""
    q = pd.DataFrame(plan["quotas"])
    rows = []
    for i, (rep, g) in enumerate(q.groupby("rep_id")):
        pace = 0.4 + (i % 7) * 0.15
        quarter = dict(zip(g["period"], g["quota"], strict=True))
        for month, share in (("2026-01", 0.15), ("2026-02", 0.25), ("2026-03", 0.6)):
            rows.append(
                {
                    "rep_id": rep,
                    "period": month,
                    "revenue": round(quarter["2026Q1"] * share * pace, 2),
                }
            )
        rows.append(
            {
                "rep_id": rep,
                "period": "2026-04",
                "revenue": round(quarter["2026Q2"] * 0.15 * pace, 2),
            }
        )
    return pd.DataFrame(rows)


def test_track_with_bookings_and_adopt_relief(browser, server, tmp_path):
    plan = stored_plan(server, "78M", scenario="in-year")
    path = tmp_path / "bookings.xlsx"  # a workbook, as finance sends it
    bookings(plan).to_excel(path, index=False)
    open_page(browser, server)
    open_stored(browser, plan)
    tab(browser, "inyear-screen")
    browser.find_element(By.ID, "bookings").send_keys(str(path))
    browser.find_element(By.ID, "track").click()
    wait(browser, lambda b: b.find_element(By.ID, "progress").is_displayed())
    assert "as of 2026-04-30" in text(browser, "progress-summary")
    assert len(finds(browser, "#chart-pace circle.pace")) == 46
    flagged = finds(browser, "#flags-table tbody tr[data-rep]")
    assert flagged  # some reps are behind: each flag with its reason in words
    assert all(r.find_elements(By.CSS_SELECTOR, "td")[-1].text for r in flagged)
    named = {t.text for t in finds(browser, "#chart-pace text.rep-label")}
    assert named == {r.get_attribute("data-rep") for r in flagged}  # every flagged rep named
    assert re.search(r"46 reps, \d+ flagged", text(browser, "pace-caption"))
    reasons = cells(browser, "#flags-table tbody tr")
    assert any("booked of" in c for c in reasons)  # the reason, in words
    browser.find_element(By.ID, "relief").click()
    wait(browser, lambda b: b.find_element(By.ID, "relief-panel").is_displayed())
    assert text(browser, "relief-summary").startswith(f"Relief for plan #{plan['id']}: the company")
    assert finds(browser, "#relief-table tbody tr")
    shot(browser, "inyear")
    browser.find_element(By.ID, "adopt-relief").click()
    wait(
        browser,
        lambda b: b.find_element(By.ID, "plan-screen").is_displayed() and plan_id(b) != plan["id"],
    )
    replan = api(server, "GET", f"/v1/plans/{plan_id(browser)}").json()
    assert replan["kind"] == "replan" and replan["parent_id"] == plan["id"]
    assert "in-year v2" in text(browser, "summary")
    no_policy_errors(browser)


# --- 5. two stored plans side by side ----------------------------------------------------------


def test_compare_two_stored_plans(browser, server):
    a = stored_plan(server, "80M", scenario="compare")
    b = stored_plan(server, "86M", scenario="compare", max_increase=0.3)
    open_page(browser, server)
    browser.refresh()  # the list is the server's: it survives a reload
    wait(browser, lambda b_: find(b_, "body").get_attribute("data-ready") == "1")
    tab(browser, "scenarios-screen")
    wait(browser, lambda b_: finds(b_, f'#stored-table tr[data-plan="{b["id"]}"]'))
    listed = find(browser, f'#stored-table tr[data-plan="{b["id"]}"]').text
    assert (
        "compare" in listed
        and "86.00M" in listed
        and "equal-stretch" in listed
        and "draft" in listed
    )
    find(browser, f'#stored-table tr[data-plan="{a["id"]}"] input[name="pick-a"]').click()
    find(browser, f'#stored-table tr[data-plan="{b["id"]}"] input[name="pick-b"]').click()
    browser.find_element(By.ID, "compare-run").click()
    wait(browser, lambda b_: b_.find_element(By.ID, "comparison").is_displayed())
    assert f"A #{a['id']} against B #{b['id']}" in text(browser, "compare-title")
    assert "+6.00M" in text(browser, "compare-title")
    groups = {r.get_attribute("data-group"): r for r in finds(browser, "#compare-groups tbody tr")}
    assert {"team:EMEA-1", "team:AMER-2", "region:EMEA", "region:AMER", "company"} <= set(groups)
    assert "+6.00M" in groups["company"].text
    assert "changed" in groups["region:EMEA"].get_attribute("class")
    for side in ("compare-a", "compare-b"):
        assert len(finds(browser, f"#{side} tbody tr")) == 46
        assert finds(browser, f"#{side} tbody tr.changed")  # the differences highlighted
        assert "Total (46 reps)" in find(browser, f"#{side} tfoot").text
    assert "86.00M" in find(browser, "#compare-b caption").text
    assert no_page_scroll_sideways(browser)
    shot(browser, "compare")
    no_policy_errors(browser)


# --- 6. spreadsheets in and out: .xlsx history and roster, .xlsx export -----------------------


def test_xlsx_in_and_out(browser, server, downloads, tmp_path):
    import openpyxl

    # A forecast table and a roster as workbooks (history as a workbook: the first test).
    stored_plan(server)
    forecast = api(server, "GET", f"/v1/forecasts/{_FORECASTS[server]}").json()["rows"]
    pd.DataFrame(forecast).to_excel(tmp_path / "forecast.xlsx", index=False)
    pd.read_csv(ROSTER_CSV, dtype=str).to_excel(tmp_path / "roster.xlsx", index=False)
    open_page(browser, server)
    use_sample(browser)
    browser.find_element(By.ID, "forecast-file").send_keys(str(tmp_path / "forecast.xlsx"))
    browser.find_element(By.ID, "roster").send_keys(str(tmp_path / "roster.xlsx"))
    set_field(browser, "scenario", "from workbooks")
    plan_now(browser)
    assert not error(browser, "forecast") and not error(browser, "roster"), error(browser, "plan")
    pid = plan_id(browser)
    assert "from workbooks v1" in text(browser, "summary")
    assert len(finds(browser, "#plan-table tbody tr[data-rep]")) == 46
    inputs = api(server, "GET", f"/v1/plans/{pid}/inputs").json()
    assert len(inputs["forecast"]) == len(forecast) and "history" not in inputs

    browser.find_element(By.ID, "export-xlsx").click()
    book = Path(downloads) / f"plan-{pid}.xlsx"
    wait(browser, lambda b: book.exists() and book.stat().st_size > 0, timeout=30)
    sheets = wait(browser, lambda b: _workbook(openpyxl, book), timeout=30)
    same = openpyxl.load_workbook(
        io.BytesIO(api(server, "GET", f"/v1/plans/{pid}", accept=XLSX).content)
    )
    assert sheets == same.sheetnames
    browser.find_element(By.ID, "export-csv").click()
    csv = Path(downloads) / f"plan-{pid}.csv"
    expected = api(server, "GET", f"/v1/plans/{pid}", accept="text/csv").content
    wait(browser, lambda b: csv.exists() and csv.read_bytes() == expected, timeout=30)

    # A broken roster: the data layer's words next to the roster's field.
    bad = tmp_path / "roster.csv"
    bad.write_text("rep,team\nR00001,EMEA-1\n")
    browser.find_element(By.ID, "roster").send_keys(str(bad))
    plan_now(browser)
    assert "rep_id" in error(browser, "roster")
    no_policy_errors(browser)


def _workbook(openpyxl, path):
    try:
        return openpyxl.load_workbook(path).sheetnames
    except Exception:  # still being written by the browser
        return None


# --- security: data is text ----------------------------------------------------------------------

HOSTILE_TEAM = "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">"
HOSTILE_REP = "<svg onload=window.__pwned=2><b>R1"  # rep ids may not hold a slash


def test_a_hostile_roster_is_shown_as_text_and_runs_nothing(browser, server, tmp_path):
    """Finding 1 of issue 20: a roster whose team was markup ran script in the planner's page."""
    stored_plan(server)  # the sample's stored forecast, as a table with the rep renamed
    forecast = pd.DataFrame(
        api(server, "GET", f"/v1/forecasts/{_FORECASTS[server]}").json()["rows"]
    )
    roster = pd.read_csv(ROSTER_CSV, dtype=str)
    first = roster.loc[0, "rep_id"]
    roster.loc[roster["team"] == roster.loc[0, "team"], "team"] = HOSTILE_TEAM
    roster.loc[0, "rep_id"] = HOSTILE_REP
    forecast.loc[forecast["rep_id"] == first, "rep_id"] = HOSTILE_REP
    (tmp_path / "roster.csv").write_text(roster.to_csv(index=False))
    (tmp_path / "forecast.csv").write_text(forecast.to_csv(index=False))

    open_page(browser, server)
    # A new workspace: the page reopens the last plan it showed on this server (its locks and
    # targets name the sample's reps and teams, which this roster renames).
    browser.execute_script("localStorage.clear()")
    open_page(browser, server)
    browser.find_element(By.ID, "forecast-file").send_keys(str(tmp_path / "forecast.csv"))
    browser.find_element(By.ID, "roster").send_keys(str(tmp_path / "roster.csv"))
    plan_now(browser)
    stale = browser.find_element(By.ID, "stale")
    assert not stale.is_displayed(), "the plan failed: " + find(browser, "main").text[:1500]
    # The plan on screen before this one has 46 rows too: wait for this one's own rep.
    wait(browser, lambda b: HOSTILE_REP in cells(b, "#plan-table tbody tr"))
    table = cells(browser, "#plan-table tbody tr")
    assert len(finds(browser, "#plan-table tbody tr[data-rep]")) == 46
    assert HOSTILE_TEAM in table and HOSTILE_REP in table  # the text, literally
    row(browser, "plan-table", HOSTILE_REP).find_element(By.CSS_SELECTOR, ".open-rep").click()
    wait(browser, lambda b: text(b, "rep-title").startswith(HOSTILE_REP))
    tab(browser, "scenarios-screen")
    wait(browser, lambda b: finds(b, "#stored-table tbody tr"))
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.title == "quotaplan"
    assert not finds(browser, "main img, main b:not(.audit b), #plan-table svg")
    titles = browser.execute_script(
        "return [...document.querySelectorAll('#chart-band title')].map(t => t.textContent)"
    )
    assert any(t.startswith(HOSTILE_REP + ":") for t in titles)
    # Had any markup slipped through, the page's policy forbids inline script anyway.
    csp = browser.execute_script(
        "return fetch('/').then(r => r.headers.get('Content-Security-Policy'))"
    )
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    no_policy_errors(browser)


def test_the_interactive_docs_render_under_the_policy(browser, server):
    browser.get(server + "/docs")
    wait(browser, lambda b: finds(b, ".opblock"), timeout=60)
    assert len(finds(browser, ".opblock")) >= 20
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "Content Security Policy" in e["message"]], errors
