"""The demo notebooks run top to bottom in a real kernel (nbclient), and `%agent` draws a PNG."""

from __future__ import annotations

import base64
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from helpers import checkout_pythonpath
from nbclient import NotebookClient

from sweepnb.store import Store

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.slow


def execute(name: str, tmp_path: Path, monkeypatch) -> nbformat.NotebookNode:
    """Run notebooks/<name> in a fresh kernel, in tmp_path, on a store in tmp_path."""
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    monkeypatch.setenv("SWEEPNB_STORE", str(tmp_path / "sweeps.db"))
    # the kernel starts in tmp_path: make sure it imports this checkout of sweepnb
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", checkout_pythonpath())
    nb = nbformat.read(tmp_path / name, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def cell_with(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    return next(cell for cell in nb.cells if cell.cell_type == "code" and text in cell.source)


def pngs(cell: nbformat.NotebookNode) -> list[bytes]:
    return [
        base64.b64decode(out["data"]["image/png"])
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]


def texts(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"{out['ename']}: {out['evalue']}"
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def test_quickstart_runs_and_the_agent_cell_shows_a_png_dashboard(tmp_path, monkeypatch):
    nb = execute("01-quickstart.ipynb", tmp_path, monkeypatch)
    assert errors(nb) == []
    agent_cell = cell_with(nb, "%agent train")
    images = pngs(agent_cell)
    assert images and all(image.startswith(PNG_MAGIC) for image in images)
    assert "val_accuracy" in texts(agent_cell)
    created = texts(cell_with(nb, "%%sweep"))
    assert "Created sweep" in created
    assert pngs(cell_with(nb, "parallel_coordinates"))
    assert "16 (16 finished)" in texts(cell_with(nb, "%sweep ls"))


def test_widget_builder_notebook_runs_and_creates_the_sweep(tmp_path, monkeypatch):
    nb = execute("02-build-a-sweep-with-widgets.ipynb", tmp_path, monkeypatch)
    assert errors(nb) == []
    form_cell = next(cell for cell in nb.cells if cell.source.strip() == "%sweep")
    assert any(
        "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        for out in form_cell.outputs
    )
    checks = texts(cell_with(nb, "print(form.errors)"))
    assert "create disabled: True" in checks and "create disabled: False" in checks
    assert "parameters.lr" in checks
    agent_cell = cell_with(nb, "%agent {sid}")
    assert "finished" in texts(agent_cell)


SETUP = """\
%load_ext sweepnb
import time
import sweepnb

def slow():
    with sweepnb.init() as run:
        for step in range(10):
            sweepnb.log({"loss": run.config.x + step})
            time.sleep(0.1)
"""


def stop_button_comm(kc, msg_id: str, timeout: float = 120) -> str:
    """The comm id of the dashboard widget that shows a Stop button, from the widgets the cell opened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id or msg["msg_type"] != "comm_open":
            continue
        state = msg["content"]["data"].get("state", {})
        if state.get("_model_name") == "AnyModel" and state.get("stop_button"):
            return msg["content"]["comm_id"]
    raise AssertionError("the dashboard showed no Stop button")


def test_stop_button_works_while_the_cell_awaits_the_agents(tmp_path):
    """`await h` keeps the kernel answering widget messages: a click on Stop ends the sweep."""
    from jupyter_client.manager import start_new_kernel

    db = tmp_path / "sweeps.db"
    env = {**os.environ, "SWEEPNB_STORE": str(db), "PYTHONPATH": str(ROOT)}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env)
    try:
        reply = kc.execute_interactive(SETUP, timeout=120)
        assert reply["content"]["status"] == "ok"
        reply = kc.execute_interactive(
            "%%sweep\nmethod: grid\nmetric: {name: loss}\n"
            "parameters: {x: {values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}}",
            timeout=60,
        )
        assert reply["content"]["status"] == "ok"
        msg_id = kc.execute("h = %agent slow --background\nawait h")
        button = stop_button_comm(kc, msg_id)
        store = Store(str(db))
        sweep_id = store.list_sweeps()[0]["id"]
        deadline = time.monotonic() + 120
        while not any(run["state"] == "finished" for run in store.get_runs(sweep_id)):
            assert time.monotonic() < deadline, "no run finished"
            time.sleep(0.1)
        click = {"comm_id": button, "data": {"method": "custom", "content": {"type": "stop"}}}
        kc.shell_channel.send(kc.session.msg("comm_msg", click))
        reply = kc.get_shell_msg(timeout=120)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=120)
        assert reply["content"]["status"] == "ok"
        assert store.get_sweep(sweep_id)["state"] == "finished"
        states = [run["state"] for run in store.get_runs(sweep_id)]
        assert "running" not in states and len(states) < 12
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
