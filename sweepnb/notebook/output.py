"""What the dashboard's output holds and who draws it: the MIME bundle (text/plain, text/html
with the chart inline, image/png), which front end the kernel has (``frontend``), and the cell a
display belongs to (``dashboard.py`` refreshes the output)."""

from __future__ import annotations

import base64
import html
import os
from typing import Any

import pandas as pd

from sweepnb.notebook.progress import Progress

# --------------------------------------------------------------------------- the bundle


def bundle(prog: Progress, table: pd.DataFrame, png: bytes | None, note: str = "") -> dict:
    """The MIME bundle: text/plain, text/html (chart inline) and image/png when there is a chart."""
    encoded = base64.b64encode(png).decode("ascii") if png else None
    text_table = (
        table.to_string(index=False, float_format=lambda v: f"{v:.6g}") if len(table) else ""
    )
    text = (
        prog.text()
        + (f"\n\nbest runs:\n{text_table}" if text_table else "")
        + (f"\n{note}" if note else "")
    )
    parts = [prog.html()]
    if encoded:
        parts.append(f'<img src="data:image/png;base64,{encoded}" style="max-width:100%"/>')
    if len(table):
        parts.append(
            "<b>best runs</b>" + table.to_html(index=False, float_format=lambda v: f"{v:.6g}")
        )
    if note:
        parts.append(f"<i>{html.escape(note)}</i>")
    out = {
        "text/plain": text,
        "text/html": "<div class='sweepnb-dashboard'>" + "".join(parts) + "</div>",
    }
    if encoded:
        out["image/png"] = encoded
    return out


# --------------------------------------------------------------------------- front ends


def frontend() -> str:
    """'widget' in a Jupyter kernel with ipywidgets, 'rich' in a kernel without, 'text' elsewhere
    (terminal IPython, plain Python). ``SWEEPNB_UI=text|rich`` forces one."""
    forced = os.environ.get("SWEEPNB_UI", "").strip().lower()
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    in_kernel = shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
    if forced in ("text", "rich"):
        return forced if in_kernel or forced == "text" else "text"
    if not in_kernel:
        return "text"
    try:
        import anywidget  # noqa: F401
        import ipywidgets  # noqa: F401
    except ImportError:
        return "rich"
    return "widget"


def cell_token() -> Any:
    """Identifies the cell being executed (so a dashboard is not shown twice by one cell)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return None
    header = getattr(shell, "parent_header", None) or {}
    msg_id = header.get("msg_id") or (header.get("header") or {}).get("msg_id")
    return msg_id or ("count", shell.execution_count)


# --------------------------------------------------------------------------- the dashboard
