"""The notebooks in a real browser: JupyterLab started here, Debian's Chromium driven by Playwright.

Screenshots go to ``artifacts/browser/`` (ignored by git) for a person to look at. Outside CI the
tests skip, with the reason, only when there is no Chromium (``.ci/run`` installs Debian's).
"""

from __future__ import annotations

import math
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


def _server(tmp_path, app: str):
    """A Jupyter server (``lab`` or ``notebook``) on a free port, serving a copy of the
    notebooks, with this checkout's sweepnb; yields its URL."""
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
        # the tests' settings (the dark theme one turns on) stay out of the user's
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={port}",
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
                pytest.fail(f"jupyter {app} did not start within 90 s")
            time.sleep(0.5)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free port, serving a copy of the notebooks, with this checkout's sweepnb."""
    yield from _server(tmp_path, "lab")


def _browser_page(url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.lab = url
        yield page
        browser.close()


@pytest.fixture
def page(lab):
    yield from _browser_page(lab)


@pytest.fixture
def notebook7(tmp_path):
    """Jupyter Notebook 7 (the classic-style front end built on JupyterLab's parts)."""
    pytest.importorskip("notebook", reason="pip install notebook (in the test extra)")
    yield from _server(tmp_path, "notebook")


@pytest.fixture
def notebook7_page(notebook7):
    yield from _browser_page(notebook7)


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
    dashboard = page.locator(".sweepnb-dash").last
    dashboard.wait_for(timeout=120_000)  # the interactive dashboard appears
    page.wait_for_function(
        "el => +el.dataset.runs > 0", arg=dashboard.element_handle(), timeout=120_000
    )
    first = dashboard.get_attribute("data-draws")
    shot(page, "02-dashboard-live")
    page.wait_for_function(  # ... and updates while the runs go
        "([el, n]) => el.dataset.draws !== n",
        arg=[dashboard.element_handle(), first],
        timeout=120_000,
    )
    wait_idle(page, 180)
    dashboard = page.locator(".sweepnb-dash").last
    status = dashboard.locator(".sd-status").inner_text()
    shot(page, "02-dashboard-finished")
    assert dashboard.get_attribute("data-state") == "finished", status
    assert "6/6 runs done" in status, status
    assert page.get_by_role("button", name="Stop sweep").count() == 0
    assert error_outputs(page) == []


def test_the_quickstart_runs_top_to_bottom(page):
    open_notebook(page, "01-quickstart")
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input, .jp-CommandPalette input").first.fill("Run All Cells")
    page.keyboard.press("Enter")
    wait_idle(page, 300)
    assert error_outputs(page) == []
    dashboard = page.locator(".sweepnb-dash").first
    dashboard.scroll_into_view_if_needed()  # a cell out of view is not laid out: no inner text
    time.sleep(2)
    shot(page, "01-quickstart")
    status = dashboard.locator(".sd-status").inner_text()
    assert dashboard.get_attribute("data-state") == "finished", status
    assert "16/16 runs done" in status, status


def palette(page, command: str) -> None:
    """Run a JupyterLab command by its label through the command palette."""
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input, .jp-CommandPalette input").first.fill(command)
    page.keyboard.press("Enter")


def test_the_scikit_learn_notebook_shows_the_search_dashboard(page):
    open_notebook(page, "08-scikit-learn")
    palette(page, "Clear Outputs of All Cells")  # the saved outputs must not answer for the run
    assert page.locator(".sweepnb-dash, .sweepnb-dashboard").count() == 0
    palette(page, "Run All Cells")
    fit_cell = page.locator(
        ".jp-CodeCell", has=page.locator(".jp-InputArea", has_text="search.fit(X, y)")
    )
    fit_cell.locator(".sweepnb-dash").first.wait_for(timeout=240_000)
    wait_idle(page, 300)
    dashboard = fit_cell.locator(".sweepnb-dash").first
    dashboard.scroll_into_view_if_needed()
    time.sleep(2)  # the notebook draws the cells it scrolled to
    shot(page, "08-scikit-learn")
    assert error_outputs(page) == []
    status = dashboard.locator(".sd-status").inner_text()
    assert dashboard.get_attribute("data-state") == "finished", status
    assert "20/20 runs done" in status, status


# --------------------------------------------------------------------------- the interactive dashboard

DASH_CELLS = [
    # failing runs are part of the test: W&B's early shutdown of a flapping agent is not
    "import os\nos.environ['WANDB_AGENT_DISABLE_FLAPPING'] = 'true'\n%load_ext sweepnb",
    (
        "%%sweep --name browser\n"
        "method: random\nseed: 3\n"
        "metric: {name: loss, goal: minimize}\n"
        "early_terminate: {type: hyperband, min_iter: 3, eta: 3}\n"
        "parameters:\n"
        "  lr: {distribution: log_uniform_values, min: 1.0e-4, max: 0.3}\n"
        "  optimizer: {values: [sgd, adam, rmsprop]}\n"
        "  dropout: {min: 0.0, max: 0.5}"
    ),
    (
        "import math, time\nimport sweepnb\n\n"
        "def train():\n"
        "    c = sweepnb.init().config\n"
        "    if c.dropout > 0.46:\n"
        "        raise ValueError(f'dropout {c.dropout:.2f} is too high')\n"
        "    base = (math.log10(c.lr) + 2.5) ** 2 + (0.3 if c.optimizer == 'sgd' else 0) + c.dropout\n"
        "    for step in range(8):\n"
        "        sweepnb.log({'loss': base + 2 / (step + 1)})\n"
        "        time.sleep(0.15)"
    ),
    "h = %agent train --count 20 --jobs 2",
    "d = h.dashboard\nprint('SELECTED', sorted(d.selected['id']), 'PINNED', d.pinned)",
]


def put_notebook(page, name: str, cells: list[str]) -> None:
    """Save a notebook of ``cells`` on the server (the contents API), ready to open."""
    import json

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    body = json.dumps({"type": "notebook", "format": "json", "content": nb}).encode()
    request = urllib.request.Request(
        f"{page.lab}/api/contents/{name}.ipynb?token=tok", data=body, method="PUT",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=30)


def cell_output(page, text: str) -> str:
    cell = page.locator(".jp-CodeCell", has=page.locator(".jp-InputArea", has_text=text)).first
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def settle(page) -> None:
    """Wait until the dashboard has drawn what the last event scheduled (it draws on the next
    animation frame, so a read right after a mouse-up can see an intermediate brush)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def view(page, script: str, arg=None):
    """Evaluate ``script`` (a function of the dashboard's view) in the page."""
    return page.evaluate(
        f"([arg]) => {{ const v = [...document.querySelectorAll('.sweepnb-dash')].pop().__sweepnb;"
        f" return ({script})(v, arg); }}",
        [arg],
    )


def table_ids(page) -> list[str]:
    settle(page)
    return page.locator(".sweepnb-dash .sd-runs tr[data-run]").evaluate_all(
        "rows => rows.map(r => r.dataset.run)"
    )


def test_the_interactive_dashboard_hovers_brushes_pins_and_sorts(page, tmp_path):
    import sweepnb

    put_notebook(page, "dash", DASH_CELLS)
    open_notebook(page, "dash")
    for text in DASH_CELLS[:3]:
        run_cell_containing(page, text.splitlines()[1 if text.startswith("import os") else 0])
        wait_idle(page, 60)
    run_cell_containing(page, "%agent train")
    dashboard = page.locator(".sweepnb-dash").last
    dashboard.wait_for(timeout=120_000)
    # live: the runs arrive while the agents go (more than one drawing, state running)
    page.wait_for_function(
        "el => el.dataset.state === 'running' && +el.dataset.runs >= 2",
        arg=dashboard.element_handle(), timeout=120_000,
    )  # fmt: skip
    shot(page, "dash-1-live")
    wait_idle(page, 240)
    dashboard = page.locator(".sweepnb-dash").last
    assert dashboard.get_attribute("data-state") == "finished"
    assert "20/20 runs done" in dashboard.locator(".sd-status").inner_text()
    # the failed runs' errors are on the dashboard; no cell raised
    assert page.locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0
    store = str(tmp_path / "sweeps.db")
    sweep_id = sweepnb.sweeps(store=store)["id"].iloc[-1] if hasattr(sweepnb, "sweeps") else None
    frame = sweepnb.runs(view(page, "v => v.model.get('sweep_id')"), store=store)
    assert len(frame) == 20 and sweep_id in (None, frame is not None and sweep_id)

    # hover: a run whose line is alone where it crosses between the first two axes
    target = view(
        page,
        """v => { for (const r of v.data.runs) { const p = v.linePoint(r.id, 0); if (!p) continue;
             const box = v.psvg.getBoundingClientRect();
             const hit = v.nearestLine(p.x - box.left, p.y - box.top);
             const others = v.data.runs.filter(o => o.id !== r.id && v.linePoint(o.id, 0) &&
               Math.abs(v.linePoint(o.id, 0).y - p.y) < 10);
             if (hit && hit.id === r.id && !others.length) return {id: r.id, ...p}; } return null; }""",
    )
    assert target is not None, "no line stands alone to hover"
    news = page.get_by_role("button", name="No")  # JupyterLab's "get notified about news?" toast
    if news.count():
        news.first.click()
    page.locator(".sweepnb-dash .sd-parallel").last.scroll_into_view_if_needed()
    time.sleep(0.5)
    target = view(page, "(v, id) => ({id, ...v.linePoint(id, 0)})", target["id"])
    page.mouse.move(target["x"], target["y"])
    tip = page.locator(".sweepnb-dash .sd-tip")
    tip.wait_for(state="visible", timeout=5_000)
    run = frame.set_index("id").loc[target["id"]]
    text = tip.inner_text()
    shot(page, "dash-2-hover")
    assert f"run {target['id']}" in text
    assert run["optimizer"] in text and "lr" in text and "dropout" in text
    shown = dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    assert float(shown["lr"]) == pytest.approx(run["lr"], rel=1e-3)
    assert float(shown["dropout"]) == pytest.approx(run["dropout"], rel=1e-3)

    # brush: drag along the lr axis from 1e-3 to 3e-2
    low, high = (view(page, "(v, x) => v.axisPoint('lr', x)", x) for x in (1e-3, 3e-2))
    page.mouse.move(low["x"], low["y"])
    page.mouse.down()
    page.mouse.move(high["x"], (low["y"] + high["y"]) / 2, steps=4)
    page.mouse.move(high["x"], high["y"], steps=4)
    page.mouse.up()
    brush = view(page, "v => v.model.get('brush')")
    lo, hi = brush["lr"]
    assert 0.8e-3 < lo < 1.25e-3 and 2.4e-2 < hi < 3.75e-2, brush
    inside = sorted(frame[(frame["lr"] >= lo) & (frame["lr"] <= hi)]["id"])
    assert inside and len(inside) < 20
    shot(page, "dash-3-brushed")
    assert sorted(table_ids(page)) == inside  # the table keeps exactly the runs in the store
    run_cell_containing(page, "print('SELECTED'")
    wait_idle(page, 60)
    assert f"SELECTED {inside}" in cell_output(page, "print('SELECTED'")  # and so does Python

    # a second axis combines with the first; a click on it clears it again
    page.locator(".sweepnb-dash .sd-parallel").last.scroll_into_view_if_needed()
    time.sleep(0.5)
    sgd = view(page, "v => v.axisPoint('optimizer', 'sgd')")
    page.mouse.move(sgd["x"], sgd["y"] - 8)
    page.mouse.down()
    page.mouse.move(sgd["x"], sgd["y"] + 8, steps=3)
    page.mouse.up()
    both = sorted(frame[frame["id"].isin(inside) & (frame["optimizer"] == "sgd")]["id"])
    assert sorted(table_ids(page)) == both
    page.mouse.click(sgd["x"], sgd["y"] - 30)
    assert "optimizer" not in view(page, "v => v.model.get('brush')")
    assert sorted(table_ids(page)) == inside

    # sort by the metric: a click on its column sorts descending, another ascending
    header = page.locator(".sweepnb-dash .sd-runs th[data-key='m']")
    header.click()
    ranked = frame.set_index("id").loc[table_ids(page), "loss"].tolist()
    finite = [v for v in ranked if not math.isnan(v)]
    assert finite == sorted(finite, reverse=True) and ranked[: len(finite)] == finite
    header.click()
    ranked = [v for v in frame.set_index("id").loc[table_ids(page), "loss"] if not math.isnan(v)]
    assert ranked == sorted(ranked)
    shot(page, "dash-4-sorted")

    # click a run in the table: its config, summary and re-run command in the pinned panel
    page.locator(".sweepnb-dash .sd-table").last.scroll_into_view_if_needed()
    first = table_ids(page)[0]
    page.locator(f".sweepnb-dash .sd-runs tr[data-run='{first}']").click()
    panel = page.locator(".sweepnb-dash .sd-pinned")
    panel.locator(".sd-pin-head", has_text=f"run {first}").wait_for(timeout=5_000)
    pinned_text = panel.inner_text()
    assert (
        "config" in pinned_text and "optimizer" in pinned_text and "sweepnb.sweep(" in pinned_text
    )
    shot(page, "dash-5-pinned")
    # a failed run shows its error on click
    failed = frame[frame["state"] == "failed"]["id"].tolist()
    assert failed, "the config makes runs with dropout > 0.46 fail"
    view(page, "v => v.setTraits({brush: {}})")
    page.locator(f".sweepnb-dash .sd-runs tr[data-run='{failed[0]}']").click()
    panel.locator(".sd-error", has_text="is too high").wait_for(timeout=5_000)
    run_cell_containing(page, "print('SELECTED'")
    wait_idle(page, 60)
    out = cell_output(page, "print('SELECTED'")
    assert f"'{first}'" in out.split("PINNED")[1] and f"'{failed[0]}'" in out.split("PINNED")[1]

    # readable at scale 1: no text under 14 px; and in the dark theme
    sizes = view(
        page,
        "v => [...v.root.querySelectorAll('.sd-tick, .sd-label, .sd-axis-name, td, th, .sd-title')]"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))",
    )
    assert sizes and min(sizes) >= 14, min(sizes)
    palette(page, "Theme: JupyterLab Dark")
    time.sleep(2)
    color = view(page, "v => getComputedStyle(v.root).color")
    channels = [int(c) for c in color[color.index("(") + 1 : color.index(")")].split(",")[:3]]
    assert sum(channels) / 3 > 150, color  # light text on the dark theme
    dashboard.scroll_into_view_if_needed()
    shot(page, "dash-6-dark")


def test_the_dashboard_notebook_passes_nbval_and_keeps_the_last_state_as_an_image(
    tmp_path, monkeypatch, kernel_env
):
    """Where no browser draws the widget (nbval, nbconvert, GitHub), the same notebook runs and
    its saved dashboard carries the final text, HTML table and PNG."""
    import base64

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(c) for c in DASH_CELLS]
    path = tmp_path / "dash.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("SWEEPNB_STORE", str(tmp_path / "nbval.db"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", str(path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    monkeypatch.setenv("SWEEPNB_STORE", str(tmp_path / "nbconvert.db"))
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = [o for o in nb.cells[3].outputs if "image/png" in o.get("data", {})]
    assert len(outputs) == 1
    data = outputs[0].data
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert "20/20 runs done" in data["text/plain"] and "<table" in data["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in data


def test_the_interactive_dashboard_goes_live_and_finishes_in_notebook_7(notebook7_page, tmp_path):
    page = notebook7_page
    put_notebook(page, "dash7", DASH_CELLS)
    page.goto(f"{page.lab}/notebooks/dash7.ipynb?token=tok")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    time.sleep(4)  # the kernel starts
    for text in DASH_CELLS[:3]:
        run_cell_containing(page, text.splitlines()[1 if text.startswith("import os") else 0])
        wait_idle(page, 60)
    run_cell_containing(page, "%agent train")
    dashboard = page.locator(".sweepnb-dash").last
    dashboard.wait_for(timeout=120_000)
    wait_idle(page, 240)
    dashboard = page.locator(".sweepnb-dash").last
    dashboard.scroll_into_view_if_needed()
    shot(page, "dash-notebook7")
    assert dashboard.get_attribute("data-state") == "finished"
    assert dashboard.get_attribute("data-runs") == "20"
    assert page.locator(".sweepnb-dash .sd-runs tr[data-run]").count() == 20
