"""Artifacts offline (issue 12.4): ``Artifact``, ``log_artifact``, ``use_artifact``, on real stores
with real files: versions, aliases, content stored once by sha256, several processes at once."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import yaml

import sweepnb
from sweepnb.compat.artifact_files import objects_dir
from sweepnb.compat.artifacts import Artifact, ArtifactNotFound
from sweepnb.errors import SweepnbError
from sweepnb.store.files import files_dir


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def log_model(store, tmp_path: Path, data: bytes, *, name="model", aliases=None) -> Artifact:
    """A standalone run logs ``data`` as ``model.pt`` in artifact ``name``."""
    source = write(tmp_path / "src" / "model.pt", data)
    with sweepnb.init(store=store, project="demo") as run:
        art = sweepnb.Artifact(name, type="model")
        art.add_file(source)
        run.log_artifact(art, aliases=aliases)
    return art


# -- the common pattern: one run logs a model, the next one uses it ----------------------------


def test_a_sweep_run_uses_the_model_the_previous_run_logged(store, tmp_path):
    sid = sweepnb.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}},
        store=store,
    )
    seen = []

    def train():
        run = sweepnb.init()
        try:
            model = run.use_artifact("model:latest")
            seen.append(Path(model.download(), "model.pt").read_bytes())
        except ArtifactNotFound:
            seen.append(None)
        path = write(tmp_path / f"run-{run.config.x}" / "model.pt", f"weights-{run.config.x}")
        art = sweepnb.Artifact("model", type="model", metadata={"x": run.config.x})
        art.add_file(path)
        sweepnb.log_artifact(art)
        sweepnb.log({"loss": run.config.x})
        sweepnb.finish()

    sweepnb.agent(sid, train, store=store, quiet=True)

    assert seen == [None, b"weights-1"]
    runs = store.get_runs(sid)
    assert [r["state"] for r in runs] == ["finished", "finished"]
    first, second = (sweepnb.Api(store=store).run(r["id"]) for r in runs)
    assert [a.name for a in first.logged_artifacts()] == ["model:v0"]
    assert [a.name for a in second.used_artifacts()] == ["model:v0"]
    assert [a.name for a in second.logged_artifacts()] == ["model:v1"]
    assert second.logged_artifacts()[0].metadata == {"x": 2}


def test_use_artifact_reads_the_same_bytes_that_were_logged(store, tmp_path):
    payload = bytes(range(256)) * 1000
    log_model(store, tmp_path, payload)
    with sweepnb.init(store=store) as run:
        art = run.use_artifact("model:latest")
        folder = Path(art.download())
    assert (folder / "model.pt").read_bytes() == payload
    assert folder.is_relative_to(files_dir(store))


# -- versions and aliases --------------------------------------------------------------------


def test_versions_count_up_and_latest_moves_to_the_newest(store, tmp_path):
    arts = [log_model(store, tmp_path, f"weights {i}".encode()) for i in range(3)]
    assert [a.version for a in arts] == ["v0", "v1", "v2"]
    with sweepnb.init(store=store) as run:
        assert run.use_artifact("model:latest").version == "v2"
        assert run.use_artifact("model").version == "v2"
        old = run.use_artifact("model:v1")
        assert Path(old.file()).read_bytes() == b"weights 1"
        assert run.use_artifact("model:v0").aliases == []
        assert run.use_artifact("model:v2").aliases == ["latest"]


def test_a_custom_alias_names_one_version_and_moves_when_given_again(store, tmp_path):
    log_model(store, tmp_path, b"a", aliases=["best"])
    log_model(store, tmp_path, b"b")
    with sweepnb.init(store=store) as run:
        assert run.use_artifact("model:best").version == "v0"
    log_model(store, tmp_path, b"c", aliases=["best", "candidate"])
    with sweepnb.init(store=store) as run:
        best = run.use_artifact("entity/project/model:best")
        assert best.version == "v2"
        assert best.aliases == ["latest", "best", "candidate"]
        assert run.use_artifact("model:v0").aliases == []


def test_logging_the_same_files_again_keeps_the_version_and_adds_the_aliases(store, tmp_path):
    first = log_model(store, tmp_path, b"same")
    again = log_model(store, tmp_path, b"same", aliases=["production"])
    assert again.version == first.version == "v0"
    assert again.aliases == ["latest", "production"]
    changed = log_model(store, tmp_path, b"different")
    assert changed.version == "v1"


def test_the_same_bytes_under_another_file_name_are_a_new_version(store, tmp_path):
    log_model(store, tmp_path, b"same")
    with sweepnb.init(store=store) as run:
        art = sweepnb.Artifact("model", type="model")
        art.add_file(tmp_path / "src" / "model.pt", name="renamed.pt")
        run.log_artifact(art)
    assert art.version == "v1"
    assert list(art.manifest) == ["renamed.pt"]


def test_aliases_and_metadata_changed_on_a_logged_version_are_saved(store, tmp_path):
    log_model(store, tmp_path, b"a")
    log_model(store, tmp_path, b"b")
    promoted = sweepnb.Api(store=store).artifact("model:v0")
    promoted.aliases.append("production")
    promoted.metadata["accuracy"] = 0.9
    promoted.save()
    again = sweepnb.Api(store=store).artifact("model:production")
    assert again.version == "v0"
    assert again.metadata == {"accuracy": 0.9}
    assert sweepnb.Api(store=store).artifact("model:latest").version == "v1"  # latest stays
    again.aliases.remove("production")
    again.save()
    assert not sweepnb.Api(store=store).artifact_exists("model:production")


def test_save_of_a_draft_logs_it_from_the_active_run(store, tmp_path):
    source = write(tmp_path / "d.csv", "1\n")
    art = sweepnb.Artifact("data", type="dataset")
    art.add_file(source)
    with pytest.raises(SweepnbError, match=r"save\(\): artifact 'data' is not logged"):
        art.save()
    with sweepnb.init(store=store) as run:
        art.save()
    assert art.version == "v0" and art.logged_by_run_id == run.id


def test_log_model_and_use_model_hand_a_model_folder_over(store, tmp_path):
    from sweepnb.compat.artifact_log import log_model, use_model

    source = write(tmp_path / "clf.pkl", b"model bytes")
    with sweepnb.init(store=store):
        art = log_model(source, name="classifier", aliases=["best"])
    assert (art.name, art.type, art.aliases) == ("classifier:v0", "model", ["latest", "best"])
    with sweepnb.init(store=store):
        assert Path(use_model("classifier:best"), "clf.pkl").read_bytes() == b"model bytes"
    with pytest.raises(SweepnbError, match=r"use_model\(\): no active run"):
        use_model("classifier")


# -- content stored once by hash -------------------------------------------------------------


def test_two_artifacts_with_the_same_file_store_one_object(store, tmp_path):
    data = b"a big model" * 10_000
    log_model(store, tmp_path, data, name="model-a")
    log_model(store, tmp_path, data, name="model-b")
    objects = list(objects_dir(store).iterdir())
    assert [p.name for p in objects] == [hashlib.sha256(data).hexdigest()]
    assert objects[0].read_bytes() == data


def test_a_file_changed_after_add_file_does_not_change_the_artifact(store, tmp_path):
    source = write(tmp_path / "weights.bin", b"before")
    with sweepnb.init(store=store) as run:
        art = sweepnb.Artifact("weights", type="model")
        art.add_file(source)
        source.write_bytes(b"after, and longer")
        run.log_artifact(art)
        assert Path(run.use_artifact("weights:v0").file()).read_bytes() == b"before"


def test_the_database_holds_json_manifests_not_pickles(store, tmp_path):
    log_model(store, tmp_path, b"x", aliases=["best"])
    db = sqlite3.connect(store.url.removeprefix("sqlite:///"))
    manifest, metadata = db.execute("SELECT manifest, metadata FROM artifact_versions").fetchone()
    assert json.loads(manifest) == {
        "model.pt": {"digest": hashlib.sha256(b"x").hexdigest(), "size": 1}
    }
    assert json.loads(metadata) == {}
    assert sorted(db.execute("SELECT alias FROM artifact_aliases")) == [("best",), ("latest",)]
    db.close()


def test_a_store_made_before_artifacts_gains_their_tables_on_upgrade(tmp_path):
    from sweepnb.store import SCHEMA_VERSION, Store

    path = tmp_path / "old.db"
    with sweepnb.init(store=Store(path)) as old_run:
        sweepnb.log({"loss": 1.0})
    db = sqlite3.connect(path)  # as a schema-1 store without artifacts was
    for table in ("artifact_versions", "artifact_aliases", "artifact_usage"):
        db.execute(f"DROP TABLE {table}")
    db.execute("DROP INDEX uq_history_run_step")
    db.execute("CREATE INDEX ix_history_run_id ON history (run_id)")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    art = log_model(Store(path), tmp_path, b"new")
    assert art.version == "v0"
    db = sqlite3.connect(path)
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    db.close()
    assert version == str(SCHEMA_VERSION)
    assert Store(path).get_run(old_run.id)["summary"]["loss"] == 1.0


def test_a_files_folder_without_the_content_says_to_share_it(store, tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEPNB_FILES", str(tmp_path / "machine-a"))
    log_model(store, tmp_path, b"only on machine a")
    monkeypatch.setenv("SWEEPNB_FILES", str(tmp_path / "machine-b"))
    art = sweepnb.Api(store=store).artifact("model:latest")
    with pytest.raises(SweepnbError, match=r"'model.pt'.*is not in .*machine-b.*SWEEPNB_FILES"):
        art.download()


# -- building artifacts ----------------------------------------------------------------------


def test_add_dir_new_file_and_download_rebuild_the_tree(store, tmp_path):
    data = tmp_path / "data"
    write(data / "train.csv", "a,b\n1,2\n")
    write(data / "images" / "cat.png", b"\x89PNG fake")
    with sweepnb.init(store=store) as run:
        art = sweepnb.Artifact("dataset", type="dataset", description="toy data")
        art.add_dir(data, name="raw")
        with art.new_file("labels.json") as handle:
            json.dump({"cat": 0}, handle)
        run.log_artifact(art)
        used = run.use_artifact("dataset:latest", type="dataset")
        root = Path(used.download(root=tmp_path / "out"))
    assert root == tmp_path / "out"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "labels.json",
        "raw/images/cat.png",
        "raw/train.csv",
    ]
    assert json.loads((root / "labels.json").read_text()) == {"cat": 0}
    assert (root / "raw/images/cat.png").read_bytes() == b"\x89PNG fake"
    assert used.description == "toy data"
    used.verify(root)


def test_get_path_downloads_one_file_and_a_redownload_repairs_an_edited_copy(store, tmp_path):
    log_model(store, tmp_path, b"original")
    with sweepnb.init(store=store) as run:
        art = run.use_artifact("model:v0")
        path = Path(art.get_path("model.pt").download())
        assert path.read_bytes() == b"original"
        path.write_bytes(b"edited by the user")
        art.download()
        assert path.read_bytes() == b"original"


def test_a_file_reference_is_copied_in_and_remote_references_are_refused(store, tmp_path):
    source = write(tmp_path / "ref.txt", "local data")
    art = sweepnb.Artifact("refs", type="dataset")
    art.add_reference(f"file://{source}")
    assert list(art.manifest) == ["ref.txt"]
    with pytest.raises(SweepnbError, match=r"add_reference: 's3://bucket/x.csv'.*offline"):
        art.add_reference("s3://bucket/x.csv")


def test_log_artifact_of_a_path_makes_an_artifact_named_after_the_run(store, tmp_path):
    source = write(tmp_path / "preds.csv", "1,2\n")
    with sweepnb.init(store=store) as run:
        art = run.log_artifact(source, type="predictions")
    assert art.name == f"run-{run.id}-preds.csv:v0"
    assert art.type == "predictions"


def test_a_disabled_run_keeps_no_artifact(tmp_path):
    source = write(tmp_path / "m.pt", b"m")
    with sweepnb.init(mode="disabled") as run:
        art = sweepnb.Artifact("model", type="model")
        art.add_file(source)
        assert run.log_artifact(art) is art
    assert art.version is None and art.is_draft()


# -- bad input names the argument --------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Artifact("my model", type="model"), ValueError, r"name: 'my model'"),
        (lambda: Artifact("m", type=""), ValueError, r"type:"),
        (lambda: Artifact("m", type="model", metadata=[1]), TypeError, r"metadata:"),
        (lambda: Artifact("m", "model").add_file("/no/such/file"), FileNotFoundError, "local_path"),
        (lambda: Artifact("m", "model").add_dir("/no/such/dir"), NotADirectoryError, "local_path"),
        (lambda: Artifact("m", "model").new_file("../up.txt").__enter__(), ValueError, "name:"),
        (lambda: Artifact("m", "model").get_path("x"), KeyError, "no file 'x'"),
        (lambda: Artifact("m", "model").download(), SweepnbError, "not logged yet"),
    ],
)
def test_bad_artifact_input_gets_an_error_naming_the_argument(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_unknown_names_aliases_and_types_are_named_in_the_error(store, tmp_path):
    log_model(store, tmp_path, b"w", aliases=["best"])
    with sweepnb.init(store=store) as run:
        with pytest.raises(ArtifactNotFound, match=r"no artifact 'nope'.*\(artifacts: model\)"):
            run.use_artifact("nope:latest")
        with pytest.raises(ArtifactNotFound, match=r"no version or alias 'v7'.*v0, best, latest"):
            run.use_artifact("model:v7")
        with pytest.raises(ValueError, match=r"type: artifact model:v0 has type 'model'"):
            run.use_artifact("model", type="dataset")
        with pytest.raises(ValueError, match=r"artifact name 'a/b/c/d'"):
            run.use_artifact("a/b/c/d")
        with pytest.raises(SweepnbError, match=r"artifact 'empty' has no files"):
            run.log_artifact(sweepnb.Artifact("empty", "model"))
        with pytest.raises(ValueError, match=r"aliases: 'a:b'"):
            run.log_artifact(sweepnb.Artifact("x", "model"), aliases=["a:b"])


def test_an_artifact_name_keeps_its_type(store, tmp_path):
    log_model(store, tmp_path, b"w")
    with sweepnb.init(store=store) as run:
        art = sweepnb.Artifact("model", type="dataset")
        art.add_file(tmp_path / "src" / "model.pt")
        with pytest.raises(ValueError, match=r"type: artifact 'model' already has type 'model'"):
            run.log_artifact(art)


def test_a_logged_artifact_cannot_change_or_be_logged_again(store, tmp_path):
    art = log_model(store, tmp_path, b"w")
    with pytest.raises(SweepnbError, match="add_file: artifact model:v0 is already logged"):
        art.add_file(tmp_path / "src" / "model.pt")
    with sweepnb.init(store=store) as run, pytest.raises(SweepnbError, match="already logged"):
        run.log_artifact(art)


def test_log_artifact_outside_a_run_says_to_call_init():
    with pytest.raises(SweepnbError, match=r"log_artifact\(\): no active run"):
        sweepnb.log_artifact(sweepnb.Artifact("m", "model"))
    with pytest.raises(SweepnbError, match=r"use_artifact\(\): no active run"):
        sweepnb.use_artifact("m:latest")


# -- several processes at once -----------------------------------------------------------------

N_PER_PROCESS = 6


def _log_versions(url: str, tag: str, start, results) -> None:
    """One process: a standalone run logs N_PER_PROCESS distinct versions of ``shared``;
    puts ``(tag, [(i, version number), ...], None)`` or ``(tag, None, traceback)``."""
    try:
        import tempfile

        import sweepnb as wb

        folder, logged = Path(tempfile.mkdtemp()), []
        start.wait(60)
        with wb.init(store=url, project="race") as run:
            for i in range(N_PER_PROCESS):
                source = write(folder / "model.pt", f"{tag}-{i}")
                art = wb.Artifact("shared", type="model")
                art.add_file(source)
                run.log_artifact(art)
                logged.append((i, int(art.version[1:])))
        results.put((tag, logged, None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((tag, None, traceback.format_exc()))


def test_two_processes_logging_one_name_never_get_the_same_version(
    store_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("SWEEPNB_FILES", str(tmp_path / "files"))  # shared folder, as on PostgreSQL
    # the store exists before the race (its own schema creation is not what is tested here);
    # the artifact tables do not: both processes create them at the same moment
    from sweepnb.store import Store

    Store(store_url).engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_log_versions, args=(store_url, t, start, results)) for t in "ab"]
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(60)
    errors = [error for _, _, error in reports if error]
    assert not errors, errors[0]
    got = [(tag, i, version) for tag, logged, _ in reports for i, version in logged]
    assert sorted(v for _, _, v in got) == list(range(2 * N_PER_PROCESS))  # each number once
    api = sweepnb.Api(store=store_url)
    for tag, i, version in got:
        stored = api.artifact(f"shared:v{version}")
        assert Path(stored.file(root=tmp_path / "check" / str(version))).read_text() == f"{tag}-{i}"


# -- program runs: a script started by `sweepnb agent`, as W&B users write it ---------------

PROGRAM = """
import argparse, pathlib
import sweepnb as wandb

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=int)
args = parser.parse_args()
run = wandb.init(project="programs")
try:
    path = wandb.use_artifact("model:latest").download()
    before = (pathlib.Path(path) / "model.txt").read_text()
except LookupError:
    before = "none"
pathlib.Path("model.txt").write_text(f"trained with x={args.x}")
art = wandb.Artifact("model", type="model")
art.add_file("model.txt")
run.log_artifact(art, aliases=[f"x{args.x}"])
wandb.log({"loss": args.x, "before": before})
wandb.finish()
"""


def test_program_runs_of_a_cli_agent_hand_a_model_from_one_run_to_the_next(tmp_path):
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "train.py").write_text(PROGRAM)
    cfg = {"program": "train.py", "method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("SWEEPNB_STORE", None)
    env.pop("SWEEPNB_FILES", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "sweepnb", *args, "--store", "s.db"]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done

    sweep_id = cli("sweep", "sweep.yaml").stdout.split("Created sweep with ID: ")[1].split()[0]
    cli("agent", sweep_id)
    store = sweepnb.Store(tmp_path / "s.db")
    runs = store.get_runs(sweep_id)
    assert [r["state"] for r in runs] == ["finished", "finished"]
    assert [r["history"][0]["before"] for r in runs] == ["none", "trained with x=1"]
    api = sweepnb.Api(store=store)
    assert [a.name for a in api.run(runs[1]["id"]).used_artifacts()] == ["model:v0"]
    assert api.artifact("model:x1").version == "v0"
    assert Path(api.artifact("model:latest").file()).read_text() == "trained with x=2"
