"""The notebooks in a real browser: JupyterLab started here, Debian's Chromium driven by Playwright.

Screenshots go to ``artifacts/browser/`` (ignored by git) for a person to look at. Outside CI the
tests skip, with the reason, only when there is no Chromium (``.ci/run`` installs Debian's).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import checkout_pythonpath

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


def _need_chromium() -> None:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium here (apt-get install chromium): browser tests skipped")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free port, serving a copy of the notebooks, with this checkout's sweepnb."""
    _need_chromium()
    pytest.importorskip("playwright", reason="pip install playwright (in the test extra)")
    root = tmp_path / "root"
    shutil.copytree(ROOT / "notebooks", root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": checkout_pythonpath(),
        "SWEEPNB_STORE": str(tmp_path / "sweeps.db"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.token=tok", f"--ServerApp.root_dir={root}", "--allow-root",
         "--ServerApp.ip=127.0.0.1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token=tok", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                pytest.fail("jupyter lab did not start within 90 s")
            time.sleep(0.5)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.lab = lab
        yield page
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_notebook(page, name: str) -> None:
    page.goto(f"{page.lab}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token=tok")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator, .jp-KernelStatus", timeout=90_000)
    time.sleep(3)  # the kernel starts


def run_cell_containing(page, text: str) -> None:
    """Click the code cell whose source contains ``text`` and run it (Shift+Enter)."""
    cell = page.locator(".jp-CodeCell", has=page.locator(".jp-InputArea", has_text=text)).first
    cell.locator(".jp-InputArea").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")


def wait_idle(page, timeout: float) -> None:
    """Until no cell shows [*] (queued or running)."""
    deadline = time.monotonic() + timeout
    time.sleep(2)
    while page.locator(".jp-InputPrompt:has-text('[*]')").count():
        if time.monotonic() > deadline:
            shot(page, "timeout")
            pytest.fail(f"cells still running after {timeout:.0f} s")
        time.sleep(1)


def error_outputs(page) -> list[str]:
    texts = page.locator(".jp-OutputArea-output").all_inner_texts()
    return [t[:300] for t in texts if "Traceback" in t or "Error:" in t.split("\n", 1)[0]]


def test_the_form_builds_a_sweep_and_the_dashboard_goes_live_then_finished(page):
    open_notebook(page, "02-build-a-sweep-with-widgets")
    run_cell_containing(page, "os.environ.setdefault")
    wait_idle(page, 120)
    run_cell_containing(page, "%sweep")  # the form's cell
    form = page.locator(".sweepnb-builder").first
    form.wait_for(timeout=60_000)
    # method and metric
    form.locator(".widget-dropdown", has_text="method").locator("select").select_option("bayes")
    form.locator(".widget-text", has_text="metric").locator("input").fill("loss")
    # two parameters: lr as a log range, batch as a list of values
    form.locator("input[placeholder='name']").nth(0).fill("lr")
    form.locator("select").filter(has_text="log range").nth(0).select_option(label="log range")
    form.locator("input[placeholder='min']").nth(0).fill("0.001")
    form.locator("input[placeholder='max']").nth(0).fill("0.1")
    form.locator(".sweepnb-add-parameter").click()
    form.locator("input[placeholder='name']").nth(1).wait_for()
    form.locator("input[placeholder='name']").nth(1).fill("batch")
    form.locator("input[placeholder='0.1, 0.01, adam']").nth(0).fill("16, 32")
    create = form.locator(".sweepnb-create")
    page.wait_for_function(
        "el => !el.disabled", arg=create.element_handle(), timeout=30_000
    )  # the form is valid
    shot(page, "02-form-filled")
    create.click()
    page.locator(".sweepnb-status", has_text="Created sweep").wait_for(timeout=30_000)
    assert "bayes" in form.locator(".sweepnb-preview").inner_text()
    # a new cell below: a train function and %agent (inserted as text: no auto-indent)
    page.keyboard.press("Escape")
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(
        "import sweepnb, time\n"
        "def train(): [sweepnb.log({'loss': sweepnb.config.lr * (8 - s) * sweepnb.config.batch})"
        " for s in range(8) if time.sleep(0.4) is None]\n"
        "h = %agent train --count 6 --jobs 2"
    )
    page.keyboard.press("Shift+Enter")
    dashboard = page.locator(".sweepnb-dashboard").last
    dashboard.locator("img").wait_for(timeout=120_000)  # the charts appear
    first = dashboard.locator("img").get_attribute("src")
    shot(page, "02-dashboard-live")
    deadline = time.monotonic() + 120
    while dashboard.locator("img").get_attribute("src") == first:  # ... and update
        assert time.monotonic() < deadline, "the dashboard's chart never changed"
        time.sleep(0.5)
    wait_idle(page, 180)
    progress = page.locator(".sweepnb-progress").last.inner_text()
    shot(page, "02-dashboard-finished")
    assert "[finished]" in progress and "6/6 runs done" in progress, progress
    assert page.get_by_role("button", name="Stop sweep").count() == 0
    assert error_outputs(page) == []


def test_the_quickstart_runs_top_to_bottom(page):
    open_notebook(page, "01-quickstart")
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input, .jp-CommandPalette input").first.fill("Run All Cells")
    page.keyboard.press("Enter")
    wait_idle(page, 300)
    shot(page, "01-quickstart")
    assert error_outputs(page) == []
    progress = page.locator(".sweepnb-progress").last.inner_text()
    assert "[finished]" in progress and "16/16 runs done" in progress, progress
    assert page.locator(".sweepnb-dashboard img").count() >= 1


def palette(page, command: str) -> None:
    """Run a JupyterLab command by its label through the command palette."""
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input, .jp-CommandPalette input").first.fill(command)
    page.keyboard.press("Enter")


def test_the_scikit_learn_notebook_shows_the_search_dashboard(page):
    open_notebook(page, "08-scikit-learn")
    palette(page, "Clear Outputs of All Cells")  # the saved outputs must not answer for the run
    assert page.locator(".sweepnb-dashboard").count() == 0
    palette(page, "Run All Cells")
    fit_cell = page.locator(
        ".jp-CodeCell", has=page.locator(".jp-InputArea", has_text="search.fit(X, y)")
    )
    fit_cell.locator(".sweepnb-dashboard img").first.wait_for(timeout=240_000)
    wait_idle(page, 300)
    fit_cell.locator(".sweepnb-dashboard img").first.scroll_into_view_if_needed()
    time.sleep(2)  # the notebook draws the cells it scrolled to
    shot(page, "08-scikit-learn")
    assert error_outputs(page) == []
    progress = fit_cell.locator(".sweepnb-progress").last.inner_text()
    assert "[finished]" in progress and "20/20 runs done" in progress, progress
