"""Store schema versions (issue 23.2): a version every schema change bumps, the upgrade of a store
written by an older sweepnb (the real code of older commits, run in a subprocess, on SQLite and
PostgreSQL), and the refusal of a store newer than this sweepnb.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from sweepnb.errors import StoreError
from sweepnb.store import Store, migrations, tables

ROOT = Path(__file__).resolve().parent.parent

# older sweepnb builds that wrote schema version 1: before runs.version existed (and before
# artifacts), and the last one before schema versions moved (runs.version, artifact tables)
BEFORE_RUN_VERSIONS = "9b5ef7f"
LAST_VERSION_1 = "6ecc577"

WRITE_WITH_OLD_SWEEPNB = """
import json, sys
import sweepnb
from sweepnb.store import Store

url = sys.argv[1]
config = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}
sweep_id = sweepnb.sweep(config, store=url)

def train():
    for i in range(3):
        sweepnb.log({"loss": float(i) * sweepnb.config.x})

sweepnb.agent(sweep_id, train, store=url)
store = Store(url)
runs = store.get_runs(sweep_id)
store.log(runs[0]["id"], [{"extra": 1.0, "_step": 1}])  # step 1 twice: two rows in this build
print(json.dumps({"sweep": sweep_id, "runs": [r["id"] for r in runs]}))
"""


@pytest.fixture(scope="session")
def old_sweepnb(tmp_path_factory):
    """``old_sweepnb(commit)``: a folder holding that commit's ``sweepnb`` package (git archive),
    to run as an older build would; skipped where this checkout has no git history."""
    made: dict[str, Path] = {}

    def checkout(commit: str) -> Path:
        if commit not in made:
            known = subprocess.run(
                ["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                capture_output=True,
                check=False,
            )
            if known.returncode != 0:
                pytest.skip(f"commit {commit} is not in this checkout's git history")
            folder = tmp_path_factory.mktemp(f"sweepnb-{commit}")
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", commit, "sweepnb"],
                capture_output=True,
                check=True,
            )
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
            made[commit] = folder
        return made[commit]

    return checkout


def run_old(folder: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` with the old build in ``folder`` first on the path (and only it)."""
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=300,
        check=False,
    )


def write_old_store(folder: Path, url: str) -> dict:
    done = run_old(folder, WRITE_WITH_OLD_SWEEPNB, url)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def raw_engine(url: str) -> sa.Engine:
    """An engine that opens the database as it is, without the store's schema step."""
    store = Store(url)
    return sa.create_engine(store.engine_url)


def stored_version(url: str) -> str:
    engine = raw_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'"))
        value = version.scalar()
    engine.dispose()
    return value


def schema_of(url: str) -> dict:
    """Tables, their columns (name, nullability), indexes and unique constraints, reflected."""
    engine = raw_engine(url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        shape = {}
        for table in sorted(inspector.get_table_names()):
            shape[table] = {
                "columns": sorted((c["name"], c["nullable"]) for c in inspector.get_columns(table)),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
            }
    engine.dispose()
    return shape


# -- the version moves with the tables --------------------------------------------------------


def test_the_tables_match_the_fingerprint_of_their_schema_version():
    computed = tables.schema_fingerprint()
    assert computed == tables.SCHEMA_FINGERPRINT, (
        "sweepnb/store/tables.py changed the schema: bump SCHEMA_VERSION, add the step that "
        "upgrades the previous version to sweepnb/store/migrations.py's MIGRATIONS, and set "
        f"SCHEMA_FINGERPRINT = {computed!r}"
    )


def test_every_schema_version_after_the_first_has_its_upgrade_step():
    assert sorted(migrations.MIGRATIONS) == list(range(2, tables.SCHEMA_VERSION + 1))


def test_the_fingerprint_sees_a_new_column_and_a_new_index():
    meta = sa.MetaData()
    for table in tables.metadata.tables.values():
        table.to_metadata(meta)
    before = tables.schema_fingerprint(meta)
    meta.tables["runs"].append_column(sa.Column("extra", sa.Text))
    with_column = tables.schema_fingerprint(meta)
    sa.Index("ix_runs_extra", meta.tables["runs"].c.extra)
    assert len({before, with_column, tables.schema_fingerprint(meta)}) == 3


# -- upgrading a store an older sweepnb wrote ---------------------------------------------------


@pytest.mark.parametrize("commit", [BEFORE_RUN_VERSIONS, LAST_VERSION_1])
def test_a_store_written_by_an_older_sweepnb_is_upgraded_and_reads_back(
    old_sweepnb, store_url, commit
):
    written = write_old_store(old_sweepnb(commit), store_url)
    assert stored_version(store_url) == "1"
    store = Store(store_url)
    runs = store.get_runs(written["sweep"])
    assert stored_version(store_url) == str(tables.SCHEMA_VERSION)
    assert [r["id"] for r in runs] == written["runs"]
    assert [r["state"] for r in runs] == ["finished", "finished"]
    assert [r["config"]["x"] for r in runs] == [1, 2]
    # the step logged twice is one row now, its later keys added
    first = runs[0]["history"]
    assert [row["_step"] for row in first] == [0, 1, 2]
    assert first[1] == {"loss": 1.0, "extra": 1.0, "_step": 1}
    assert [row["loss"] for row in runs[1]["history"]] == [0.0, 2.0, 4.0]
    # and it takes this sweepnb's writes: versions count, artifacts have their tables
    store.log(runs[1]["id"], [{"loss": 6.0, "_step": 3}])
    assert store.get_run(runs[1]["id"])["version"] > runs[1]["version"]
    assert store.get_runs(written["sweep"])[1]["history"][-1]["loss"] == 6.0
    from sweepnb.store.artifacts import list_versions

    assert list_versions(store, "model") == []


@pytest.mark.parametrize("commit", [BEFORE_RUN_VERSIONS, LAST_VERSION_1])
def test_an_upgraded_store_has_exactly_the_tables_of_a_new_one(
    old_sweepnb, store_url, tmp_path, commit
):
    write_old_store(old_sweepnb(commit), store_url)
    Store(store_url).list_sweeps()  # opens: upgrades
    with new_store_beside(store_url, tmp_path) as new_url:
        Store(new_url).list_sweeps()
        assert schema_of(store_url) == schema_of(new_url)


@contextlib.contextmanager
def new_store_beside(url: str, tmp_path: Path):
    """The URL of another empty store on the same backend (a PostgreSQL schema of its own)."""
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    schema = "n_" + secrets.token_hex(6)
    engine = raw_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    base = url.split("?", 1)[0]
    try:
        yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_a_failing_upgrade_step_leaves_the_store_as_it_was(old_sweepnb, store_url, monkeypatch):
    written = write_old_store(old_sweepnb(BEFORE_RUN_VERSIONS), store_url)
    before = schema_of(store_url)
    real_step = migrations.MIGRATIONS[tables.SCHEMA_VERSION]

    def fails_after_its_work(conn):
        real_step(conn)  # the real DDL and row merges run ...
        raise RuntimeError("the disk went away")  # ... then the upgrade fails

    monkeypatch.setitem(migrations.MIGRATIONS, tables.SCHEMA_VERSION, fails_after_its_work)
    with pytest.raises(RuntimeError, match="disk went away"):
        Store(store_url).list_sweeps()
    assert stored_version(store_url) == "1"
    assert schema_of(store_url) == before  # no column, index or table added
    monkeypatch.undo()
    runs = Store(store_url).get_runs(written["sweep"])  # the next open upgrades it whole
    assert len(runs[0]["history"]) == 3


def test_a_store_newer_than_this_sweepnb_is_refused_in_one_line_naming_both_versions(store_url):
    Store(store_url).create_sweep({"method": "grid", "parameters": {"x": {"values": [1]}}})
    newer = tables.SCHEMA_VERSION + 1
    engine = raw_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(newer)}
        )
    engine.dispose()
    with pytest.raises(StoreError) as info:
        Store(store_url).list_sweeps()
    message = str(info.value)
    assert "\n" not in message
    assert f"schema version {newer}" in message
    assert f"version {tables.SCHEMA_VERSION} that this sweepnb reads" in message
    assert "upgrade sweepnb" in message
    assert stored_version(store_url) == str(newer)  # untouched


def test_an_older_sweepnb_refuses_an_upgraded_store_instead_of_misreading_it(old_sweepnb, tmp_path):
    url = f"sqlite:///{tmp_path / 'sweeps.db'}"
    Store(url).create_sweep({"method": "grid", "parameters": {"x": {"values": [1]}}})
    script = "import sys; from sweepnb.store import Store; Store(sys.argv[1]).list_sweeps()"
    done = run_old(old_sweepnb(LAST_VERSION_1), script, url)
    assert done.returncode != 0
    assert f"schema version {tables.SCHEMA_VERSION}" in done.stderr


@pytest.mark.parametrize("text", ["abc", "0", ""])
def test_a_schema_version_no_sweepnb_wrote_is_refused(store_url, text):
    Store(store_url).create_sweep({"method": "grid", "parameters": {"x": {"values": [1]}}})
    engine = raw_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": text}
        )
    engine.dispose()
    with pytest.raises(StoreError, match=r"schema version .*which no sweepnb wrote"):
        Store(store_url).list_sweeps()


OPEN_AND_READ = """
import json, sys
from sweepnb.store import Store

runs = Store(sys.argv[1]).get_runs(sys.argv[2])
print(json.dumps([len(r["history"]) for r in runs]))
"""


def test_agents_opening_an_old_store_at_once_upgrade_it_once(old_sweepnb, store_url):
    written = write_old_store(old_sweepnb(BEFORE_RUN_VERSIONS), store_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_READ, store_url, written["sweep"]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in openers]
    assert [p.returncode for p in openers] == [0] * 4, [err[-1000:] for _, err in outputs]
    assert [json.loads(out) for out, _ in outputs] == [[3, 3]] * 4
    assert stored_version(store_url) == str(tables.SCHEMA_VERSION)
