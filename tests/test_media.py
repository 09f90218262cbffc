"""Media logged offline (issue 12 point 3): real runs in a tmp_path store write real files;
the history holds small references; media are listed (Python, CLI) and shown in the notebook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image as PILImage

import sweepnb
from sweepnb import Audio, Histogram, Html, Image, Table, Video
from sweepnb.compat.media_files import load
from sweepnb.store.files import files_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_files_override(monkeypatch):
    monkeypatch.delenv("SWEEPNB_FILES", raising=False)


def logged(store, values: dict, **log_kw) -> dict:
    """Log ``values`` in a fresh standalone run; return the stored run (history included)."""
    with sweepnb.init(store=store.url) as run:
        run.log(values, **log_kw)
    return store.get_run(run.id)


def test_image_from_array_is_a_png_under_the_store_files_folder(store):
    pixels = np.zeros((16, 24, 3))
    pixels[:, :12, 0] = 1.0  # left half red
    run = logged(store, {"samples": Image(pixels, caption="half red")})
    ref = run["history"][0]["samples"]
    assert ref["_type"] == "image-file"
    assert ref["path"] == f"{run['id']}/media/samples/0-0.png"
    assert (ref["width"], ref["height"], ref["caption"]) == (24, 16, "half red")
    with PILImage.open(files_dir(store) / ref["path"]) as png:
        assert png.size == (24, 16)
        assert png.getpixel((0, 0)) == (255, 0, 0)
        assert png.getpixel((23, 0)) == (0, 0, 0)


@pytest.mark.parametrize(
    "data, size",
    [
        (np.full((5, 7), 200, dtype=np.uint8), (7, 5)),  # HxW uint8
        (np.random.default_rng(0).random((3, 6, 5)), (5, 6)),  # CxHxW (torch layout)
        (np.zeros((6, 4, 4)), (4, 6)),  # HxWxC RGBA
        (PILImage.new("RGB", (9, 3)), (9, 3)),
    ],
)
def test_image_accepts_arrays_and_pil_images(data, size):
    assert Image(data).image.size == size


def test_image_from_matplotlib_figure_and_from_path(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    assert Image(fig).image.size == (100, 50)
    PILImage.new("L", (5, 5), 128).save(tmp_path / "grey.png")
    assert Image(tmp_path / "grey.png", mode="RGB").image.getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"data_or_path": np.zeros(3)}, ValueError, "data_or_path has shape (3,), expected HxW"),
        ({"data_or_path": np.zeros((2, 2, 5))}, ValueError, "data_or_path has shape (2, 2, 5)"),
        ({"data_or_path": "missing.png"}, FileNotFoundError, "data_or_path 'missing.png'"),
        ({"data_or_path": np.zeros((2, 2)), "file_type": "bmp"}, ValueError, "file_type 'bmp'"),
        ({"data_or_path": np.array([["a"]])}, TypeError, "data_or_path has dtype"),
        ({"data_or_path": np.zeros((2, 2)), "boxes": [1]}, TypeError, "boxes must be a dict"),
    ],
)
def test_image_bad_arguments_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match="^Image: ") as info:
        Image(**kwargs)
    assert words in str(info.value)


def test_list_of_images_writes_one_file_each_and_a_list_reference(store):
    images = [Image(np.full((4, 4), i * 60, dtype=np.uint8)) for i in range(3)]
    run = logged(store, {"batch": images})
    ref = run["history"][0]["batch"]
    assert ref["_type"] == "media-list" and ref["count"] == 3
    for n, item in enumerate(ref["items"]):
        with PILImage.open(files_dir(store) / item["path"]) as png:
            assert png.getpixel((0, 0)) == n * 60


def test_image_masks_are_written_as_pngs(store):
    mask = {"mask_data": np.eye(4, dtype=np.uint8), "class_labels": {0: "bg", 1: "diag"}}
    run = logged(store, {"seg": Image(np.zeros((4, 4)), masks={"pred": mask})})
    ref = run["history"][0]["seg"]["masks"]["pred"]
    assert ref["class_labels"] == {"0": "bg", "1": "diag"}
    folder = files_dir(store) / run["history"][0]["seg"]["path"]
    with PILImage.open(folder.parent / ref["path"]) as png:
        assert np.array_equal(np.asarray(png), np.eye(4))


def test_table_is_a_csv_and_a_json_and_reads_back(store):
    table = Table(columns=["epoch", "acc", "note"], data=[[0, 0.5, "warm"]])
    table.add_data(1, 0.75, None)
    run = logged(store, {"preds": table})
    ref = run["history"][0]["preds"]
    assert ref["_type"] == "table-file"
    assert (ref["nrows"], ref["columns"]) == (2, ["epoch", "acc", "note"])
    csv = files_dir(store) / ref["path"]
    assert pd.read_csv(csv)["acc"].tolist() == [0.5, 0.75]
    meta = json.loads(csv.with_name("0-0.table.json").read_text())
    assert meta["ncols"] == 3
    back = Table.from_file(csv)
    assert back.columns == ["epoch", "acc", "note"]
    assert back.get_column("note") == ["warm", None]


def test_table_cells_with_images_write_the_images(store):
    table = Table(columns=["id", "image"])
    table.add_data(7, Image(np.ones((3, 3))))
    run = logged(store, {"t": table})
    csv = files_dir(store) / run["history"][0]["t"]["path"]
    cell = pd.read_csv(csv)["image"][0]
    with PILImage.open(csv.parent / cell) as png:
        assert png.size == (3, 3)


def test_table_api_matches_wandb():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    table = Table(dataframe=frame)
    table.add_column("c", [0.1, 0.2])
    assert table.columns == ["a", "b", "c"]
    assert table.data == [[1, "x", 0.1], [2, "y", 0.2]]
    assert table.get_column("a", convert_to="numpy").tolist() == [1, 2]
    assert table.get_dataframe().shape == (2, 3)
    assert Table(data=frame).columns == ["a", "b"]
    assert Table().columns == ["Input", "Output", "Expected"]
    assert Table(rows=[[1, 2]], columns=["p", "q"]).data == [[1, 2]]


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Table(columns=["a"], data=[[1, 2]]), "row 0 has 2 values"),
        (lambda: Table(columns=["a", "a"]), "duplicate names ['a']"),
        (lambda: Table(columns=["a"], data=[[1], ["x"]]), "column 'a' row 1 is a str"),
        (lambda: Table(columns=["a"], data=[[None]], optional=False), "optional=False"),
        (lambda: Table(columns=["a"], data=[1, 2]), "data row 0 is a int"),
        (lambda: Table(columns=["a"]).get_column("b"), "no column 'b'"),
        (lambda: Table(columns=["a"], data=[[1]]).add_column("b", [1, 2]), "data has 2 values"),
    ],
)
def test_table_bad_arguments_name_the_argument(make, words):
    with pytest.raises((ValueError, TypeError, KeyError)) as info:
        make()
    assert words in str(info.value)


def test_table_allow_mixed_types():
    assert Table(columns=["a"], data=[[1], ["x"]], allow_mixed_types=True).get_column("a") == [
        1,
        "x",
    ]


def test_histogram_is_a_json_of_bins_and_values(store):
    run = logged(store, {"weights": Histogram(np.arange(100), num_bins=4)})
    ref = run["history"][0]["weights"]
    assert ref == {
        "_type": "histogram",
        "path": f"{run['id']}/media/weights/0-0.histogram.json",
        "num_bins": 4,
    }
    data = json.loads((files_dir(store) / ref["path"]).read_text())
    assert data["values"] == [25, 25, 25, 25]
    assert data["bins"][0] == 0 and data["bins"][-1] == 99
    assert Histogram(np_histogram=np.histogram([1, 2, 3], bins=2)).values == [1, 2]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"sequence": [1], "num_bins": 0}, "num_bins 0 is not in 1..512"),
        ({"sequence": [1], "num_bins": 2.5}, "num_bins must be an integer"),
        ({}, "exactly one of sequence and np_histogram"),
        ({"np_histogram": ([1, 2], [0, 1])}, "np_histogram has 2 values and 2 bin edges"),
        ({"sequence": [float("nan")]}, "sequence has no finite values"),
    ],
)
def test_histogram_bad_arguments(kwargs, words):
    with pytest.raises((ValueError, TypeError), match="^Histogram: ") as info:
        Histogram(**kwargs)
    assert words in str(info.value)


def test_html_from_string_path_and_file(store, tmp_path):
    page = tmp_path / "report.html"
    page.write_text("<p>from a file</p>")
    with open(page) as f:
        from_file_object = Html(f)
    run = logged(store, {"a": Html("<h1>hi</h1>"), "b": Html(str(page)), "c": from_file_object})
    row = run["history"][0]
    assert (files_dir(store) / row["a"]["path"]).read_text() == "<h1>hi</h1>"
    assert (files_dir(store) / row["b"]["path"]).read_text() == "<p>from a file</p>"
    assert (files_dir(store) / row["c"]["path"]).read_text() == "<p>from a file</p>"
    with pytest.raises(TypeError, match="Html: data must be a string"):
        Html(42)


def test_audio_file_is_copied_and_array_written_as_wav(store, tmp_path):
    source = tmp_path / "clip.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 800)
    tone = np.sin(np.linspace(0, 2 * np.pi * 440, 4000))
    run = logged(
        store, {"file": Audio(source, caption="clip"), "tone": Audio(tone, sample_rate=4000)}
    )
    row = run["history"][0]
    copied = files_dir(store) / row["file"]["path"]
    assert copied.read_bytes() == source.read_bytes() and row["file"]["caption"] == "clip"
    with wave.open(str(files_dir(store) / row["tone"]["path"])) as written:
        assert (written.getframerate(), written.getnframes()) == (4000, 4000)
    with pytest.raises(ValueError, match="Audio: sample_rate is required"):
        Audio(tone)


def test_video_file_is_copied_and_frames_written_as_gif(store, tmp_path):
    source = tmp_path / "rollout.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    frames = np.random.default_rng(1).integers(0, 255, (5, 3, 8, 10), dtype=np.uint8)
    run = logged(store, {"mp4": Video(source), "gif": Video(frames, fps=5)})
    row = run["history"][0]
    assert (files_dir(store) / row["mp4"]["path"]).read_bytes() == source.read_bytes()
    with PILImage.open(files_dir(store) / row["gif"]["path"]) as gif:
        assert (gif.size, gif.n_frames) == ((10, 8), 5)
    with pytest.raises(ValueError, match="Video: format 'mp4' from frames needs a video encoder"):
        Video(frames, format="mp4")
    with pytest.raises(ValueError, match=r"Video: data_or_path has shape \(2, 2\)"):
        Video(np.zeros((2, 2)))


def test_summary_keeps_the_last_reference(store):
    with sweepnb.init(store=store.url) as run:
        for step in range(3):
            run.log({"img": Image(np.zeros((2, 2))), "loss": 1.0 / (step + 1)})
    stored = store.get_run(run.id)
    assert stored["summary"]["img"]["path"] == f"{run.id}/media/img/2-0.png"
    assert [row["img"]["path"][-7:] for row in stored["history"]] == [
        "0-0.png",
        "1-0.png",
        "2-0.png",
    ]


def test_two_logs_at_one_step_keep_both_files_and_keys_are_safe_folders(store):
    with sweepnb.init(store=store.url) as run:
        run.log({"val/../x y": Image(np.zeros((2, 2)))}, step=4)
        run.log({"val/../x y": Image(np.ones((2, 2)))}, step=4)
    # one row per step: the later image is the step's value, as in W&B; both files are kept
    paths = [row["val/../x y"]["path"] for row in store.get_run(run.id)["history"]]
    assert paths == [f"{run.id}/media/val/x_y/4-1.png"]
    folder = files_dir(store) / run.id / "media" / "val" / "x_y"
    assert sorted(p.name for p in folder.iterdir()) == ["4-0.png", "4-1.png"]


def test_unknown_objects_raise_naming_the_key_and_strings_stay_strings(store):
    with sweepnb.init(store=store.url) as run:
        with pytest.raises(TypeError, match=r"log\(\): 'model' is of type object"):
            run.log({"img": Image(np.zeros((2, 2))), "model": object()})
        with pytest.raises(TypeError, match="sweepnb.Table\\(dataframe=...\\)"):
            run.log({"frame": pd.DataFrame({"a": [1]})})
        run.log({"name": "adam", "arr": np.arange(3), "nested": {"a": 1, "b": [1, 2]}})
    assert not files_dir(store).exists()  # the refused row wrote no image
    row = store.get_run(run.id)["history"][0]
    assert (row["name"], row["arr"], row["nested"]) == ("adam", [0, 1, 2], {"a": 1, "b": [1, 2]})


def test_disabled_run_accepts_media_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with sweepnb.init(mode="disabled") as run:
        run.log({"img": Image(np.zeros((2, 2)))})
    assert run.summary["img"] == {"_type": "image-file", "path": None}
    assert not any(tmp_path.rglob("*.png"))


# -- listing and showing ------------------------------------------------------------------------


def test_media_lists_a_runs_files_with_key_step_type_path_caption(store):
    with sweepnb.init(store=store.url) as run:
        run.log(
            {"img": Image(np.zeros((2, 2)), caption="c0"), "t": Table(columns=["a"], data=[[1]])}
        )
        run.log({"img": [Image(np.zeros((2, 2))), Image(np.ones((2, 2)))], "loss": 0.1})
    frame = sweepnb.media(run.id, store=store.url)
    assert list(frame.columns) == ["key", "step", "type", "path", "caption"]
    assert frame[["key", "step", "type"]].values.tolist() == [
        ["img", 0, "image-file"],
        ["t", 0, "table-file"],
        ["img", 1, "image-file"],
        ["img", 1, "image-file"],
    ]
    assert frame["caption"].tolist() == ["c0", None, None, None]
    assert all(Path(p).is_file() for p in frame["path"])
    assert load(frame["path"][1]).get_dataframe().to_dict("list") == {"a": [1]}
    assert load(frame["path"][0]).size == (2, 2)


def test_cli_media_prints_the_table(store, tmp_path):
    with sweepnb.init(store=store.url) as run:
        run.log({"samples": Image(np.zeros((2, 2)), caption="zeros")})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "media", run.id, "--store", store.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    header, line = done.stdout.splitlines()
    assert header.split() == ["key", "step", "type", "path", "caption"]
    assert line.split()[:3] == ["samples", "0", "image-file"] and line.endswith("zeros")
    missing = subprocess.run(
        [sys.executable, "-m", "sweepnb", "media", "nope", "--store", store.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def test_show_media_in_a_real_ipython_shell(store):
    from IPython.core.interactiveshell import InteractiveShell

    with sweepnb.init(store=store.url) as run:
        run.log(
            {
                "img": Image(np.zeros((3, 3))),
                "t": Table(columns=["a"], data=[[5]]),
                "h": Histogram([1, 2, 2]),
                "page": Html("<i>x</i>"),
            }
        )
    shell = InteractiveShell.instance()
    shell.history_manager.enabled = False
    shown = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    try:
        shell.user_ns.update(sweepnb=sweepnb, run_id=run.id, url=store.url)
        shell.run_cell("objs = sweepnb.show_media(run_id, store=url)", store_history=False)
        objs = shell.user_ns["objs"]
    finally:
        InteractiveShell.clear_instance()
    kinds = [type(o).__name__ for o in objs]
    assert kinds.count("Image") == 2 and "DataFrame" in kinds  # image + histogram drawn as PNG
    assert any("image/png" in d for d in shown)
    assert any("<i>x</i>" in d.get("text/html", "") for d in shown)


def test_show_media_for_a_sweep_shows_the_best_runs_media(store):
    sweep_id = sweepnb.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [3, 1, 2]}}},
        store=store.url,
    )

    def train():
        with sweepnb.init() as run:
            run.log(
                {"loss": run.config.x, "pic": Image(np.full((2, 2), run.config.x * 50, np.uint8))}
            )

    sweepnb.agent(sweep_id, train, store=store.url)
    objs = sweepnb.show_media(sweep_id, key="pic", store=store.url)
    assert "pic (step 0)" in objs[1].data
    assert PILImage.open(__import__("io").BytesIO(objs[2].data)).getpixel((0, 0)) == 50  # x = 1
    with pytest.raises(KeyError, match="logged no media key 'nope'"):
        sweepnb.show_media(sweep_id, key="nope", store=store.url)


def test_a_program_run_started_by_the_agent_writes_media_beside_the_store(store, tmp_path):
    (tmp_path / "train.py").write_text(
        "import numpy as np, sweepnb\n"
        "run = sweepnb.init()\n"
        "run.log({'loss': 1.0, 'pic': sweepnb.Image(np.zeros((4, 6)), caption='program')})\n"
    )
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"values": [1]}},
    }
    sweep_id = sweepnb.sweep(config, store=store.url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "agent", sweep_id, "--store", store.url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (run,) = store.get_runs(sweep_id)
    frame = sweepnb.media(run["id"], store=store.url)
    assert frame[["key", "caption"]].values.tolist() == [["pic", "program"]]
    with PILImage.open(frame["path"][0]) as png:
        assert png.size == (6, 4)


def test_image_boxes_are_a_sibling_json(store):
    boxes = {
        "predictions": {
            "box_data": [
                {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0, "maxY": 0.5}, "class_id": 1}
            ],
            "class_labels": {1: "cat"},
        }
    }
    run = logged(store, {"det": Image(np.zeros((4, 4)), boxes=boxes)})
    ref = run["history"][0]["det"]
    sidecar = (files_dir(store) / ref["path"]).with_name(ref["boxes"])
    assert json.loads(sidecar.read_text())["predictions"]["class_labels"] == {"1": "cat"}
