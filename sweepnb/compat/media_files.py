"""Where logged media go, and finding them again.

``run.log({"samples": Image(...)})`` writes the image as
``files_dir(store)/<run_id>/media/<key>/<step>-<n>.png``; the history row keeps a small JSON
reference (``{"_type": "image-file", "path": "<run_id>/media/samples/3-0.png", ...}``) whose
``path`` is relative to the store's files folder. ``media(run_id)`` lists them, ``load(path)``
reads one back, ``show_media(run_or_sweep_id)`` displays them in the notebook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sweepnb.compat.media_types import Image, Media, _is_figure

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")
MEDIA_COLUMNS = ["key", "step", "type", "path", "caption"]


def _plain_value(value: Any) -> bool:
    """True for what ``Run.log`` stores as is: numbers, strings, None, numpy/tensor values."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    return hasattr(value, "item") or hasattr(value, "tolist")


def to_history_values(run: Any, data: Mapping[str, Any], step: int) -> dict:
    """``data`` with each media value written as files and replaced by its reference.

    A matplotlib Figure is logged as an Image; lists of media become
    ``{"_type": "media-list", "items": [...]}``; nested dicts are walked. Any other object
    raises ``TypeError`` naming its key (a ``repr`` string in the history helps nobody).
    """
    for k, v in data.items():  # check every value first: a bad one leaves no stray files
        _convert(None, str(k), v, step)
    return {str(k): _convert(run, str(k), v, step) for k, v in data.items()}


def _convert(run: Any, key: str, value: Any, step: int) -> Any:
    """The history value of ``value``; with ``run=None`` only checks it (writes nothing)."""
    if _plain_value(value):
        return value
    if _is_figure(value):
        value = Image(value)
    if isinstance(value, Media):
        return _write(run, key, value, step, 0)
    if isinstance(value, Mapping):
        return {str(k): _convert(run, f"{key}/{k}", v, step) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [Image(v) if _is_figure(v) else v for v in value]
        if items and all(isinstance(v, Media) for v in items):
            refs = [_write(run, key, v, step, n) for n, v in enumerate(items)]
            return {"_type": "media-list", "count": len(refs), "items": refs}
        return [_convert(run, f"{key}/{n}", v, step) for n, v in enumerate(items)]
    hint = ""
    if hasattr(value, "itertuples"):
        hint = "; for a DataFrame log sweepnb.Table(dataframe=...)"
    elif type(value).__module__.startswith("PIL."):
        hint = "; for an image log sweepnb.Image(...)"
    raise TypeError(
        f"log(): {key!r} is of type {type(value).__name__}; log numbers, strings, lists or dicts of "
        f"them, or media (Image, Table, Histogram, Html, Audio, Video, plot.*){hint}; "
        "to keep its text, log str(value)"
    )


def _write(run: Any, key: str, value: Media, step: int, n: int) -> dict | None:
    """Write ``value``'s files for ``key`` at ``step``; its reference with a store-relative path."""
    from sweepnb.store.files import files_dir

    if run is None:  # the checking pass
        return None
    if run.store is None or run.id is None:  # init(mode="disabled"): nothing is kept
        return {"_type": value._type, "path": None}
    root = files_dir(run.store, create=True)
    parts = [_UNSAFE.sub("_", p) for p in key.split("/") if p not in ("", ".", "..")]
    folder = root / str(run.id) / "media" / Path(*(parts or ["_"]))
    folder.mkdir(parents=True, exist_ok=True)
    while any(folder.glob(f"{step}-{n}.*")):  # a second log at the same step keeps both
        n += 1
    ref = value.write(folder, f"{step}-{n}")
    relative = (folder / ref["path"]).relative_to(root).as_posix()
    return {**ref, "path": relative}


# ---------------------------------------------------------------------------------------------
# Listing, loading, showing
# ---------------------------------------------------------------------------------------------


def _refs(key: str, value: Any):
    if isinstance(value, Mapping):
        if value.get("_type") == "media-list":
            for item in value.get("items") or []:
                yield key, item
        elif "_type" in value and "path" in value:
            yield key, value
        else:
            for k, v in value.items():
                yield from _refs(f"{key}/{k}", v)


def media(run_id: str, store: Any = None):
    """The media a run logged, as a pandas DataFrame (key, step, type, path, caption).

    ``path`` is the file's absolute path; ``load(path)`` reads it back.

    >>> sweepnb.media(run.id)  # doctest: +SKIP
           key  step        type                                   path caption
    0  samples     0  image-file  /…/sweeps-files/ab12/media/samples/0-0.png   digit 3
    """
    import pandas as pd

    from sweepnb.store import open_store
    from sweepnb.store.files import files_dir

    if not isinstance(run_id, str) or not run_id:
        raise TypeError(f"media(): run_id must be a run id string, not {run_id!r}")
    st = open_store(store)
    run = st.get_run(run_id.split("/")[-1])
    root = files_dir(st)
    rows = []
    for row in run.get("history") or []:
        for key, value in row.items():
            for name, ref in _refs(key, value):
                if ref.get("path") is None:
                    continue
                rows.append(
                    {
                        "key": name,
                        "step": row.get("_step"),
                        "type": ref["_type"],
                        "path": str(root / ref["path"]),
                        "caption": ref.get("caption"),
                    }
                )
    frame = pd.DataFrame(rows, columns=MEDIA_COLUMNS)
    frame["caption"] = frame["caption"].astype(object).where(frame["caption"].notna(), None)
    return frame


def load(path: Any) -> Any:
    """A logged file read back: PIL image, Table (from ``.csv``), dict (histogram, chart JSON),
    str (HTML), else the file's ``Path`` (audio, video).

    >>> load(sweepnb.media(run_id).path[0])  # doctest: +SKIP
    <PIL.PngImagePlugin.PngImageFile image mode=RGB size=28x28>
    """
    import json

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"load(): path {str(file)!r} is not a file")
    suffix = file.suffix.lower()
    if suffix in (".png", ".jpg", ".jpeg"):
        from PIL import Image as PILImage

        with PILImage.open(file) as image:
            image.load()
            return image.copy()
    if suffix == ".csv":
        from sweepnb.compat.table import Table

        return Table.from_file(file)
    if suffix == ".json":
        return json.loads(file.read_text())
    if suffix == ".html":
        return file.read_text(encoding="utf-8")
    return file


def _resolve_run(id_: str, store: Any) -> str:
    """A run id as is; a sweep id: its best run's id (else its last run)."""
    from sweepnb.errors import SweepNotFound
    from sweepnb.store import open_store

    st = open_store(store)
    id_ = id_.split("/")[-1]
    try:
        st.get_run(id_, history=False)
        return id_
    except SweepNotFound:
        pass
    from sweepnb.analysis import best_run

    sweep = st.get_sweep(id_)  # raises SweepNotFound naming the id
    runs = st.get_runs(sweep["id"], history=True)
    if not runs:
        raise SweepNotFound(f"show_media(): sweep {id_!r} has no runs yet")
    best = best_run(sweep["config"], runs) if (sweep["config"].get("metric") or {}) else None
    return (best or runs[-1])["id"]


def show_media(
    run_or_sweep_id: str, key: str | None = None, store: Any = None, all_steps: bool = False
) -> list:
    """Display a run's media in the notebook (for a sweep id: its best run's): for each key the
    last step's (every step's with ``all_steps=True``). Returns the display objects.

    >>> sweepnb.show_media(sweep_id, key="samples")  # doctest: +SKIP
    """
    from IPython import display as ipd

    run_id = _resolve_run(run_or_sweep_id, store)
    frame = media(run_id, store)
    if key is not None:
        if key not in set(frame["key"]):
            known = sorted(set(frame["key"]))
            raise KeyError(
                f"show_media(): run {run_id} logged no media key {key!r} (keys: {known})"
            )
        frame = frame[frame["key"] == key]
    if not all_steps and len(frame):
        last = frame.groupby("key")["step"].transform("max")
        frame = frame[frame["step"] == last]
    shown: list = [ipd.HTML(f"<b>run {run_id}</b>: {len(frame)} media")]
    for item in frame.itertuples(index=False):
        title = f"{item.key} (step {item.step})" + (f": {item.caption}" if item.caption else "")
        shown.append(ipd.HTML(f"<div><code>{_escape(title)}</code></div>"))
        shown.append(_display_object(item.type, Path(item.path)))
    for obj in shown:
        ipd.display(obj)
    return shown


def _display_object(kind: str, file: Path) -> Any:
    from IPython import display as ipd

    if kind == "image-file":
        return ipd.Image(filename=str(file))
    if kind == "table-file":
        return load(file).get_dataframe()
    if kind == "html-file":
        return ipd.HTML(file.read_text(encoding="utf-8"))
    if kind == "audio-file":
        return ipd.Audio(filename=str(file))
    if kind == "video-file":
        if file.suffix == ".gif":
            return ipd.Image(filename=str(file))
        return ipd.Video(str(file), embed=True)
    if kind == "chart":
        return ipd.Image(filename=str(file.with_suffix(".png")))
    if kind == "histogram":
        from sweepnb.compat.plot import histogram_figure_png

        return ipd.Image(data=histogram_figure_png(load(file)))
    return ipd.HTML(f"<code>{_escape(str(file))}</code>")


def _escape(text: str) -> str:
    import html

    return html.escape(text)
