"""The app as a person sees it: `streamlit run app.py` driven by Debian's Chromium through Playwright.

Screenshots of each page go to tests/artifacts/ and the start-up timings to
tests/artifacts/timings.json. Any console error or uncaught page error fails the test; none is
ignored. Without /usr/bin/chromium (`make browser` installs it) the test is skipped, except under
CI=true where it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from detector.results import campaign_list
from detector.store import Case

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run `make browser` (as root) to install Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    # Without the fonts Chinese and Uyghur show as boxes in the screenshots: `make browser` installs them.
    from detector.evidence.fonts import INSTALL_HINT, missing_roles

    if missing_roles():
        reason = f"fonts for {', '.join(missing_roles())} are missing: {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app_case, chromium, tmp_path_factory):
    """`streamlit run app.py` on a free loopback port, serving the test case ($DETECTOR_DB)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, "DETECTOR_DB": str(app_case)}
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            if time.monotonic() - started > START_TIMEOUT_S:
                pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield {"url": url, "started": started, "ready_s": time.monotonic() - started, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _screenshot(page, name: str) -> None:
    """The whole page once the script run is over: the viewport grows to the main column's height
    (Streamlit scrolls inside it, so a full-page screenshot alone would cut it off)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')",
                           timeout=30_000)
    page.wait_for_timeout(800)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 1000")
    page.set_viewport_size({"width": 1400, "height": min(max(height, 1000), 8000)})
    page.wait_for_timeout(1200)
    page.screenshot(path=ARTIFACTS / name, full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def _drawn(page, text: str) -> bytes:
    """A screenshot of ``text`` alone in the page's own font."""
    page.evaluate("""t => { const s = document.createElement('span'); s.id = 'glyph-probe';
        s.style.cssText = 'position:fixed;top:300px;left:600px;font-size:32px;color:#000;background:#fff;z-index:2147483647';
        s.textContent = t; document.body.appendChild(s); }""", text)
    probe = page.locator("#glyph-probe")
    shot = probe.screenshot()
    page.evaluate("() => document.getElementById('glyph-probe').remove()")
    return shot


def test_landing_campaign_and_check_in_chromium(server, app_case, chromium):
    from playwright.sync_api import expect, sync_playwright

    with Case.open(app_case, read_only=True) as case:
        campaigns = campaign_list(case)
    top = campaigns[0]
    video = next(t for c in campaigns if c["tier"] in ("strong", "moderate")
                 for t in c["hit_targets"] if t.startswith("youtube:video:"))
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    timings = {"server_ready_s": round(server["ready_s"], 2)}

    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = browser.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text} {m.location}"))
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} {r.failure}"))

            # Landing: the top campaign is ranked first.
            page.goto(server["url"])
            first_card = page.get_by_text(f"#1 {top['id']}", exact=True)
            expect(first_card).to_be_visible(timeout=60_000)
            timings["first_render_s"] = round(time.monotonic() - server["started"], 2)
            cards = page.locator("strong").filter(has_text="#").all_inner_texts()
            assert cards[0] == f"#1 {top['id']}", cards
            _screenshot(page, "01-campaigns.png")

            # Into the top campaign: the plotly timeline.
            clicked = time.monotonic()
            page.get_by_role("button", name=f"Open {top['id']}").click()
            expect(page.get_by_role("heading", name=f"{top['id']}: tier {top['tier']}")).to_be_visible(timeout=30_000)
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
            timings["campaign_detail_s"] = round(time.monotonic() - clicked, 2)
            assert page.locator(".js-plotly-plot .scatterlayer .trace").count() > 0
            _screenshot(page, "02-campaign-detail.png")

            # The glossary as a tooltip: hovering p_link's help icon explains the timing test.
            metric = page.get_by_test_id("stMetric").filter(has_text="p_link").first
            icon = metric.get_by_test_id("stTooltipHoverTarget").first
            icon.scroll_into_view_if_needed()
            icon.hover()
            tip = page.get_by_test_id("stTooltipContent").filter(has_text="The timing test")
            expect(tip).to_be_visible(timeout=10_000)
            page.wait_for_timeout(600)          # the tooltip fades in
            box = icon.bounding_box()
            page.screenshot(path=ARTIFACTS / "06-tooltip-p_link.png",
                            clip={"x": max(box["x"] - 700, 0), "y": max(box["y"] - 200, 0), "width": 1000, "height": 480})
            page.mouse.move(0, 0)

            # Review before export: the decision table and its save button, for every call and cited post.
            review = page.get_by_role("heading", name="Review before export")
            review.scroll_into_view_if_needed()
            expect(page.get_by_role("button", name="Save decisions")).to_be_visible(timeout=10_000)
            page.wait_for_timeout(800)
            box = review.bounding_box()
            page.screenshot(path=ARTIFACTS / "07-review.png",
                            clip={"x": 0, "y": max(box["y"] - 20, 0), "width": 1400, "height": 760})

            # Check a claim: a campaign video.
            page.get_by_role("link", name="Check a claim").click()
            page.get_by_label("Video or channel URL").fill("https://youtu.be/" + video.rsplit(":", 1)[1])
            checked = time.monotonic()
            page.get_by_role("button", name="Check").click()
            expect(page.get_by_text("Yes, as far as these sources show", exact=False)).to_be_visible(timeout=30_000)
            expect(page.get_by_text("What they cannot show")).to_be_visible()
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
            timings["check_s"] = round(time.monotonic() - checked, 2)
            _screenshot(page, "03-check.png")

            # Chinese, Uyghur and emoji are drawn as glyphs, not boxes: with no font for a script every
            # character is the same box, so two different words would give the same picture.
            for a, b in (("举报", "视频"), ("شىكايەت", "ئەرز"), ("🔥", "👇")):
                assert _drawn(page, a) != _drawn(page, b), f"{a!r} and {b!r} look the same: no font for them"

            page.get_by_role("link", name="Explore").click()
            expect(page.get_by_text(" notices", exact=False).first).to_be_visible(timeout=30_000)
            _screenshot(page, "04-explore.png")

            page.get_by_role("link", name="Add data").click()
            expect(page.get_by_role("button", name="Ingest and re-analyse")).to_be_visible(timeout=30_000)
            _screenshot(page, "05-add-data.png")
        finally:
            browser.close()

    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(f"start-up to first render: {timings['first_render_s']} s (server ready {timings['server_ready_s']} s); "
          f"timings: {timings}")
    assert not errors, "browser console errors:\n" + "\n".join(errors)
