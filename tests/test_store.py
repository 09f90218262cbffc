"""The store's behaviour on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import re
import socket
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import sweepnb
from sweepnb.errors import StoreError, SweepNotFound
from sweepnb.store import MAX_ERROR_CHARS, SCHEMA_VERSION, Store, history_table, meta_table

GRID = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2, 3]}}}


def first_free_point(points):
    """A propose function: the first point of ``points`` no run has yet, None when all are taken."""

    def propose(sweep, runs):
        taken = [r["config"] for r in runs]
        return next((p for p in points if p not in taken), None)

    return propose


# -- URLs, default location, masking ---------------------------------------------------------


def test_default_store_is_created_on_first_use(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPNB_STORE", raising=False)
    store = Store()
    assert store.url == f"sqlite:///{tmp_path / '.sweepnb' / 'sweeps.db'}"
    assert not (tmp_path / ".sweepnb").exists()
    store.create_sweep(GRID)
    assert (tmp_path / ".sweepnb" / "sweeps.db").is_file()


def test_env_variable_chooses_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEPNB_STORE", str(tmp_path / "elsewhere.db"))
    assert Store().url == f"sqlite:///{tmp_path / 'elsewhere.db'}"


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Store("a/b.db").url == f"sqlite:///{tmp_path / 'a' / 'b.db'}"
    assert Store("sqlite:///c.db").url == f"sqlite:///{tmp_path / 'c.db'}"
    assert Store(Path("d.db")).url == f"sqlite:///{tmp_path / 'd.db'}"


def test_postgres_scheme_is_normalised():
    assert Store("postgres://u:p@h/db").url == "postgresql://u:p@h/db"
    assert Store("postgresql://u:p@h/db").engine_url.drivername == "postgresql+psycopg"


def test_unsupported_scheme_is_named():
    with pytest.raises(StoreError, match="unsupported URL scheme 'mysql'"):
        Store("mysql://u:p@h/db")


def test_in_memory_sqlite_is_refused():
    with pytest.raises(StoreError, match="in-memory"):
        Store("sqlite://")


def test_password_is_masked_in_repr_and_str():
    store = Store("postgresql://alice:s3cret-pw@db.example:5432/sweeps")
    assert store.display_url == "postgresql://alice:***@db.example:5432/sweeps"
    for text in (repr(store), str(store), store.display_url):
        assert "s3cret-pw" not in text
        assert "alice:***@" in text
    assert store.url == "postgresql://alice:s3cret-pw@db.example:5432/sweeps"


def test_password_in_the_query_string_is_masked():
    store = Store("postgresql://alice@db.example/sweeps?password=s3cret-pw&sslmode=require")
    assert store.display_url == "postgresql://alice@db.example/sweeps?password=***&sslmode=require"
    assert "s3cret-pw" not in repr(store)


@pytest.mark.parametrize(
    "url, says",
    [
        ("postgresql://alice:s3cret-pw@db.example:port5432/sweeps", "is the port a number"),
        ("postgresql://alice:s3cret-pw@[::1/sweeps", "is the port a number"),
        # an unencoded '@' in the password: SQLAlchemy would read 'pw@db.example' as the host
        ("postgresql://alice:s3cret@pw@db.example/sweeps", "as %40"),
    ],
)
def test_a_misread_postgres_url_is_a_store_error_without_its_text(url, says):
    with pytest.raises(StoreError, match=re.escape(says)) as info:
        Store(url)
    assert "s3cret" not in str(info.value) and "pw@" not in str(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_error_masks_the_password():
    store = Store(f"postgresql://alice:s3cret-pw@127.0.0.1:{_closed_port()}/sweeps")
    with pytest.raises(StoreError) as info:
        store.list_sweeps()
    assert "s3cret-pw" not in str(info.value)
    assert "alice:***@127.0.0.1" in str(info.value)


@pytest.mark.postgres
def test_wrong_password_error_masks_both_passwords(pg_url):
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(password="wrong-pw-123")
    store = Store(url.render_as_string(hide_password=False))
    with pytest.raises(StoreError) as info:
        store.list_sweeps()
    message = str(info.value)
    assert "wrong-pw-123" not in message
    assert make_url(pg_url).password not in message
    assert "password authentication failed" in message


@pytest.mark.postgres
def test_errors_from_a_real_server_mask_the_password(fresh_pg_url):
    from sqlalchemy.engine import make_url

    store = Store(fresh_pg_url)
    with pytest.raises(SweepNotFound) as info:
        store.get_sweep("nosuchid")
    assert make_url(fresh_pg_url).password not in str(info.value)
    assert ":***@" in str(info.value)


# -- schema ----------------------------------------------------------------------------------


def _set_schema_version(url: str, version: str) -> None:
    engine = sa.create_engine(Store(url).engine_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(meta_table).where(meta_table.c.key == "schema_version").values(value=version)
        )
    engine.dispose()


def test_unknown_schema_version_is_a_clear_error(store_url):
    Store(store_url).create_sweep(GRID)
    _set_schema_version(store_url, "99")
    with pytest.raises(StoreError) as info:
        Store(store_url).list_sweeps()
    message = str(info.value)
    assert "schema version 99" in message
    assert f"newer than version {SCHEMA_VERSION}" in message


def test_foreign_database_without_version_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id TEXT)")
    with pytest.raises(StoreError, match="no schema version"):
        Store(path).list_sweeps()


def test_existing_store_reopens(tmp_path):
    sweep_id = Store(tmp_path / "s.db").create_sweep(GRID)
    assert Store(tmp_path / "s.db").get_sweep(sweep_id)["config"] == GRID


def test_sqlite_store_uses_wal(store):
    store.create_sweep(GRID)
    with sqlite3.connect(store.engine_url.database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- sweeps ----------------------------------------------------------------------------------


def test_sweep_round_trip(any_store):
    sweep_id = any_store.create_sweep(GRID, name="demo", project="p", entity="e")
    assert re.fullmatch(r"[a-z0-9]{8}", sweep_id)
    sweep = any_store.get_sweep(sweep_id)
    assert sweep["id"] == sweep_id
    assert sweep["config"] == GRID
    assert (sweep["name"], sweep["project"], sweep["entity"]) == ("demo", "p", "e")
    assert sweep["state"] == "running"
    assert isinstance(sweep["created"], float)


def test_unknown_sweep_is_named(any_store):
    with pytest.raises(SweepNotFound, match="no sweep 'nope1234'"):
        any_store.get_sweep("nope1234")
    with pytest.raises(SweepNotFound):
        any_store.get_runs("nope1234")
    with pytest.raises(SweepNotFound):
        any_store.set_sweep_state("nope1234", "paused")


def test_list_sweeps_counts_runs_by_state(any_store):
    a = any_store.create_sweep(GRID)
    b = any_store.create_sweep(GRID)
    any_store.add_run(a, {"x": 1}, state="finished")
    any_store.add_run(a, {"x": 2}, state="finished")
    any_store.add_run(a, {"x": 3})
    sweeps = {s["id"]: s for s in any_store.list_sweeps()}
    assert sweeps[a]["runs"] == {"finished": 2, "running": 1}
    assert sweeps[b]["runs"] == {}


def test_sweep_state_changes(any_store):
    sweep_id = any_store.create_sweep(GRID)
    any_store.set_sweep_state(sweep_id, "paused")
    assert any_store.get_sweep(sweep_id)["state"] == "paused"


def test_bad_sweep_state_names_the_argument(store):
    sweep_id = store.create_sweep(GRID)
    with pytest.raises(ValueError, match="state: 'stopped' is not one of"):
        store.set_sweep_state(sweep_id, "stopped")


def test_update_sweep_config(any_store):
    sweep_id = any_store.create_sweep(GRID)
    new = {**GRID, "run_cap": 2}
    any_store.update_sweep_config(sweep_id, new)
    assert any_store.get_sweep(sweep_id)["config"] == new


def test_unserialisable_config_names_the_key(store):
    with pytest.raises(StoreError, match="config: value of type object"):
        store.create_sweep({"x": object()})


def test_numpy_values_are_stored_as_plain_numbers(store):
    np = pytest.importorskip("numpy")
    sweep_id = store.create_sweep(GRID)
    run_id = store.add_run(sweep_id, {"x": np.int64(3)}, summary={"a": np.float32(0.5)})
    run = store.get_run(run_id)
    assert run["config"] == {"x": 3}
    assert type(run["summary"]["a"]) is float


# -- claiming --------------------------------------------------------------------------------


def test_claim_inserts_a_running_run(any_store):
    sweep_id = any_store.create_sweep(GRID, project="proj")
    seen = []

    def propose(sweep, runs):
        seen.append((sweep["id"], sweep["config"], len(runs)))
        return {"x": 1, "nested": {"y": "a"}}

    run = any_store.claim_run(sweep_id, propose, host="h1", pid=42, agent="agent-1")
    assert seen == [(sweep_id, GRID, 0)]
    assert run["state"] == "running"
    assert run["config"] == {"x": 1, "nested": {"y": "a"}}
    assert (run["host"], run["pid"], run["agent"], run["project"]) == ("h1", 42, "agent-1", "proj")
    assert run["history"] == [] and run["summary"] == {}
    assert any_store.get_runs(sweep_id) == [run]


def test_claims_see_earlier_runs_and_end_when_propose_says_none(any_store):
    sweep_id = any_store.create_sweep(GRID)
    propose = first_free_point([{"x": 1}, {"x": 2}])
    got = [any_store.claim_run(sweep_id, propose, host="h", pid=1) for _ in range(3)]
    assert [r["config"] for r in got[:2]] == [{"x": 1}, {"x": 2}]
    assert got[2] is None
    assert len(any_store.get_runs(sweep_id)) == 2


def test_claim_on_a_paused_sweep_does_not_call_propose(store):
    sweep_id = store.create_sweep(GRID)
    store.set_sweep_state(sweep_id, "paused")

    def propose(sweep, runs):
        raise AssertionError("propose must not be called")

    assert store.claim_run(sweep_id, propose, host="h", pid=1) is None


def test_failing_propose_inserts_nothing(any_store):
    sweep_id = any_store.create_sweep(GRID)

    def propose(sweep, runs):
        raise ZeroDivisionError("bad search")

    with pytest.raises(ZeroDivisionError):
        any_store.claim_run(sweep_id, propose, host="h", pid=1)
    assert any_store.get_runs(sweep_id) == []


def test_claim_without_history_hands_runs_without_rows(store):
    sweep_id = store.create_sweep(GRID)
    store.add_run(sweep_id, {"x": 1}, history=[{"_step": 0, "loss": 1.0}])
    seen = []
    store.claim_run(sweep_id, lambda s, runs: seen.extend(runs), host="h", pid=1, history=False)
    assert len(seen) == 1 and "history" not in seen[0]


# -- logging and reading runs ----------------------------------------------------------------


def test_log_appends_rows_and_merges_summary(any_store):
    sweep_id = any_store.create_sweep(GRID)
    run = any_store.claim_run(sweep_id, lambda s, r: {"x": 1}, host="h", pid=1)
    control = any_store.log(run["id"], [{"_step": 0, "loss": 3.0}], {"loss": 3.0, "acc": 0.1})
    assert control == {"stop": False, "reason": None, "sweep_state": "running"}
    any_store.log(run["id"], [{"_step": 1, "loss": 2.0}, {"_step": 2, "loss": 1.5}], {"loss": 1.5})
    got = any_store.get_run(run["id"])
    assert got["history"] == [
        {"_step": 0, "loss": 3.0},
        {"_step": 1, "loss": 2.0},
        {"_step": 2, "loss": 1.5},
    ]
    assert got["summary"] == {"loss": 1.5, "acc": 0.1}
    assert got["heartbeat"] > run["heartbeat"]


def test_rows_without_step_get_the_next_one(store):
    sweep_id = store.create_sweep(GRID)
    run_id = store.add_run(sweep_id, {"x": 1})
    store.log(run_id, [{"_step": 4, "a": 1}])
    store.log(run_id, [{"a": 2}, {"a": 3}])
    assert [row["_step"] for row in store.get_run(run_id)["history"]] == [4, 5, 6]


def test_nan_and_inf_survive_the_round_trip(any_store):
    sweep_id = any_store.create_sweep({**GRID, "early": float("inf")})
    run_id = any_store.add_run(sweep_id, {"x": float("-inf")})
    any_store.log(
        run_id,
        [{"_step": 0, "loss": float("nan"), "up": float("inf"), "down": float("-inf")}],
        summary={"loss": float("nan"), "best": [float("inf")]},
    )
    run = any_store.get_run(run_id)
    row = run["history"][0]
    assert math.isnan(row["loss"]) and row["up"] == math.inf and row["down"] == -math.inf
    assert math.isnan(run["summary"]["loss"]) and run["summary"]["best"] == [math.inf]
    assert run["config"] == {"x": -math.inf}
    assert any_store.get_sweep(sweep_id)["config"]["early"] == math.inf


def test_get_runs_without_history_has_no_history_key(store):
    sweep_id = store.create_sweep(GRID)
    store.add_run(sweep_id, {"x": 1}, history=[{"_step": 0, "loss": 1}])
    (run,) = store.get_runs(sweep_id, history=False)
    assert "history" not in run
    (run,) = store.get_runs(sweep_id)
    assert run["history"] == [{"_step": 0, "loss": 1}]


def test_get_runs_reads_history_in_one_query_not_one_per_run(store):
    sweep_id = store.create_sweep(GRID)
    for i in range(20):
        store.add_run(sweep_id, {"x": i}, history=[{"_step": s, "v": i * s} for s in range(3)])
    selects = []

    def count_selects(conn, cursor, statement, parameters, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(tuple(parameters))

    sa.event.listen(store.engine, "before_cursor_execute", count_selects)
    runs = store.get_runs(sweep_id)
    assert len(runs) == 20 and all(len(r["history"]) == 3 for r in runs)
    assert runs[7]["history"][2] == {"_step": 2, "v": 14}
    assert len(selects) == 3  # the sweep's change sequence, its runs, their history
    selects.clear()
    store.log(runs[0]["id"], [{"_step": 3, "v": 0}])
    selects.clear()
    again = store.get_runs(sweep_id)
    assert again[0]["history"][-1] == {"_step": 3, "v": 0} and again[1:] == runs[1:]
    assert len(selects) == 3  # the same three, now reading only the changed run:
    assert selects[1] == (sweep_id, 20)  # those written after the 20 adds (seq > 20)


def test_runs_come_back_oldest_first(any_store):
    sweep_id = any_store.create_sweep(GRID)
    ids = [any_store.add_run(sweep_id, {"x": i}) for i in range(5)]
    assert [r["id"] for r in any_store.get_runs(sweep_id)] == ids


def test_unknown_run_is_named(any_store):
    with pytest.raises(SweepNotFound, match="no run 'zz'"):
        any_store.get_run("zz")
    with pytest.raises(SweepNotFound, match="no run 'zz'"):
        any_store.log("zz", [])


def test_standalone_and_prior_runs(any_store):
    standalone = any_store.add_run(None, {"lr": 0.1}, project="solo")
    run = any_store.get_run(standalone)
    assert run["sweep_id"] is None and run["project"] == "solo"
    assert any_store.heartbeat(standalone)["sweep_state"] is None
    sweep_id = any_store.create_sweep(GRID, project="p")
    prior = any_store.add_run(
        sweep_id, {"x": 2}, state="finished", summary={"loss": 0.5}, history=[{"loss": 0.5}]
    )
    got = any_store.get_run(prior)
    assert got["state"] == "finished" and got["ended"] is not None
    assert got["history"] == [{"loss": 0.5, "_step": 0}]
    assert got["project"] == "p"


def test_add_run_to_unknown_sweep_fails(store):
    with pytest.raises(SweepNotFound):
        store.add_run("nope1234", {"x": 1})


# -- control and finishing -------------------------------------------------------------------


def test_request_stop_reaches_the_next_log(any_store):
    sweep_id = any_store.create_sweep(GRID)
    run_id = any_store.add_run(sweep_id, {"x": 1})
    reason = {"rule": "hyperband", "band": 3, "threshold": 0.5, "value": 0.9, "message": "m"}
    any_store.request_stop(run_id, reason)
    assert any_store.log(run_id, [{"_step": 0, "loss": 1}]) == {
        "stop": True,
        "reason": reason,
        "sweep_state": "running",
    }
    run = any_store.get_run(run_id)
    assert run["stop_requested"] is True and run["stop_reason"] == reason


def test_cancelled_sweep_stops_its_runs(any_store):
    sweep_id = any_store.create_sweep(GRID)
    run_id = any_store.add_run(sweep_id, {"x": 1})
    any_store.set_sweep_state(sweep_id, "finished")
    assert any_store.heartbeat(run_id)["stop"] is False
    any_store.set_sweep_state(sweep_id, "cancelled")
    control = any_store.heartbeat(run_id)
    assert control["stop"] is True and control["sweep_state"] == "cancelled"
    assert control["reason"]["rule"] == "cancel"


def test_finish_run_records_state_summary_and_error_tail(any_store):
    sweep_id = any_store.create_sweep(GRID)
    run_id = any_store.add_run(sweep_id, {"x": 1}, summary={"a": 1})
    traceback = "x" * (MAX_ERROR_CHARS * 2) + "ZeroDivisionError: division by zero"
    any_store.finish_run(run_id, "failed", summary={"b": 2}, error=traceback)
    run = any_store.get_run(run_id)
    assert run["state"] == "failed" and run["ended"] >= run["started"]
    assert run["summary"] == {"a": 1, "b": 2}
    assert run["error"].endswith("ZeroDivisionError: division by zero")
    assert len(run["error"]) < MAX_ERROR_CHARS + 100
    assert any_store.log(run_id, [])["stop"] is True


def test_the_first_end_of_a_run_wins_except_a_crash_guess(store):
    sweep_id = store.create_sweep(GRID)
    stopped = store.add_run(sweep_id, {"x": 1})
    store.finish_run(stopped, "stopped", error="cancelled by the user")
    store.finish_run(stopped, "finished", error="late writer")
    assert store.get_run(stopped)["state"] == "stopped"
    assert store.get_run(stopped)["error"] == "cancelled by the user"
    crashed = store.add_run(sweep_id, {"x": 2})
    store.finish_run(crashed, "crashed", error="heartbeat stale")
    store.finish_run(crashed, "finished")
    assert store.get_run(crashed)["state"] == "finished"


def test_finish_run_rejects_a_non_terminal_state(store):
    run_id = store.add_run(None, {})
    with pytest.raises(ValueError, match="state: 'running' is not one of"):
        store.finish_run(run_id, "running")


# -- reaper ----------------------------------------------------------------------------------


def _wait_past(stamp: float) -> None:
    while time.time() <= stamp:
        time.sleep(0.01)


def test_reaper_marks_a_stale_running_run_crashed(any_store):
    sweep_id = any_store.create_sweep(GRID)
    stale = any_store.add_run(sweep_id, {"x": 1}, host="gone", pid=1)
    done = any_store.add_run(sweep_id, {"x": 2}, state="finished")
    _wait_past(any_store.get_run(stale)["heartbeat"] + 0.05)
    fresh = any_store.add_run(sweep_id, {"x": 3})
    # judged just after the fresh run's heartbeat: only the older one is past 0.01 s
    at = any_store.get_run(fresh)["heartbeat"] + 0.005
    assert any_store.reap(sweep_id, stale_after=0.01, now=at) == [stale]
    states = {r["id"]: r["state"] for r in any_store.get_runs(sweep_id)}
    assert states == {stale: "crashed", done: "finished", fresh: "running"}
    run = any_store.get_run(stale)
    assert "no heartbeat" in run["error"] and "host gone, pid 1" in run["error"]
    assert any_store.reap(sweep_id, stale_after=0.01, now=at) == []


def test_reaper_only_touches_the_given_sweep(store):
    a, b = store.create_sweep(GRID), store.create_sweep(GRID)
    run_a, run_b = store.add_run(a, {}), store.add_run(b, {})
    _wait_past(store.get_run(run_b)["heartbeat"] + 0.02)
    assert store.reap(a, stale_after=0.01) == [run_a]
    assert store.reap(stale_after=0.01) == [run_b]


def test_a_reaped_run_that_logs_again_is_running(store):
    run_id = store.add_run(None, {})
    _wait_past(store.get_run(run_id)["heartbeat"] + 0.02)
    store.reap(stale_after=0.01)
    assert store.get_run(run_id)["state"] == "crashed"
    assert store.log(run_id, [{"_step": 0, "a": 1}])["stop"] is False
    run = store.get_run(run_id)
    assert run["state"] == "running" and run["ended"] is None


def _sleep_forever() -> None:
    time.sleep(600)


def test_reaper_crashes_runs_of_dead_local_processes_at_once(store):
    process = multiprocessing.get_context("spawn").Process(target=_sleep_forever)
    process.start()
    host = socket.gethostname()
    sweep_id = store.create_sweep(GRID)
    dead = store.claim_run(sweep_id, lambda s, r: {"x": 1}, host=host, pid=process.pid)
    alive = store.claim_run(sweep_id, lambda s, r: {"x": 2}, host=host, pid=os.getpid())
    assert store.reap(sweep_id, dead_pids_on=host) == []
    process.kill()
    process.join()
    assert store.reap(sweep_id, dead_pids_on=host) == [dead["id"]]
    assert "process is gone" in store.get_run(dead["id"])["error"]
    assert store.get_run(alive["id"])["state"] == "running"


def test_negative_stale_after_is_refused(store):
    with pytest.raises(ValueError, match="stale_after"):
        store.reap(stale_after=-1)


# -- processes -------------------------------------------------------------------------------


def test_store_pickles_by_url(any_store):
    sweep_id = any_store.create_sweep(GRID)
    clone = pickle.loads(pickle.dumps(any_store))
    assert clone == any_store and clone.url == any_store.url
    assert clone.get_sweep(sweep_id)["id"] == sweep_id
    assert b"sqlalchemy" not in pickle.dumps(any_store)


def _add_run_in_child(store: Store, sweep_id: str, queue) -> None:
    queue.put(store.add_run(sweep_id, {"from": "child"}))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_store_keeps_working_across_fork(any_store):
    sweep_id = any_store.create_sweep(GRID)
    any_store.add_run(sweep_id, {"from": "parent"})  # the parent's pool now holds a connection
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_add_run_in_child, args=(any_store, sweep_id, queue))
    child.start()
    child_run = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    any_store.add_run(sweep_id, {"from": "parent again"})
    configs = [r["config"]["from"] for r in any_store.get_runs(sweep_id)]
    assert configs == ["parent", "child", "parent again"]
    assert any_store.get_run(child_run)["config"] == {"from": "child"}


def test_propose_must_return_a_dict(store):
    sweep_id = store.create_sweep(GRID)
    with pytest.raises(TypeError, match="propose: must return a dict or None, got list"):
        store.claim_run(sweep_id, lambda s, r: [1], host="h", pid=1)


def test_repeated_reads_see_changes_made_through_another_store(any_store):
    # the reading store caches runs between calls; a second Store stands for another process
    sweep_id = any_store.create_sweep(GRID)
    other = Store(any_store.url)
    first = other.add_run(sweep_id, {"x": 1})
    second = other.add_run(sweep_id, {"x": 2}, history=[{"_step": 0, "loss": 2.0}])
    assert [r["state"] for r in any_store.get_runs(sweep_id)] == ["running", "running"]
    other.log(first, [{"_step": 0, "loss": 1.0}], {"loss": 1.0})
    other.finish_run(second, "failed", error="boom")
    other.request_stop(first, {"rule": "test"})
    third = other.add_run(sweep_id, {"x": 3})
    again = any_store.get_runs(sweep_id)
    assert again == Store(any_store.url).get_runs(sweep_id)  # same as a reader without a cache
    assert [r["id"] for r in again] == [first, second, third]
    assert again[0]["history"] == [{"_step": 0, "loss": 1.0}]
    assert again[0]["stop_reason"] == {"rule": "test"}
    assert (again[1]["state"], again[1]["error"]) == ("failed", "boom")
    proposed = []
    any_store.claim_run(sweep_id, lambda s, runs: proposed.extend(runs), host="h", pid=1)
    assert proposed == again


def test_callers_cannot_change_what_the_store_read(store):
    sweep_id = store.create_sweep(GRID)
    store.add_run(sweep_id, {"x": 1}, summary={"a": 1}, history=[{"_step": 0}])
    (run,) = store.get_runs(sweep_id)
    run["state"] = "mangled"
    run["config"]["x"] = 99
    run["summary"].clear()
    run["history"].append({"_step": 1})
    (again,) = store.get_runs(sweep_id)
    assert (again["state"], again["config"], again["summary"]) == ("running", {"x": 1}, {"a": 1})
    assert again["history"] == [{"_step": 0}]


# -- one history row per step (issue 23.3) -----------------------------------------------------


def test_the_same_write_twice_keeps_each_history_row_once(any_store):
    run_id = any_store.add_run(None, {})
    rows = [{"loss": 0.5, "_step": 0}, {"loss": 0.25, "_step": 1}]
    any_store.log(run_id, rows)
    any_store.log(run_id, rows)  # what a retry after a lost COMMIT reply sends
    history = any_store.get_run(run_id)["history"]
    assert history == rows


def test_a_step_logged_again_merges_into_its_row_as_in_wandb(any_store):
    with sweepnb.init(store=any_store) as run:
        sweepnb.log({"loss": 0.5}, step=3)
        run.flush()
        sweepnb.log({"acc": 0.9}, step=3)  # the same step, in a later write
        sweepnb.log({"loss": 0.4}, step=4)
        sweepnb.log({"loss": 0.3}, step=4)  # the same step, in the same write
    history = any_store.get_run(run.id)["history"]
    assert history == [
        {"loss": 0.5, "acc": 0.9, "_step": 3},
        {"loss": 0.3, "_step": 4},
    ]


def test_the_database_refuses_a_second_row_at_a_step(any_store):
    run_id = any_store.add_run(None, {}, history=[{"loss": 1.0}])

    def duplicate(conn):
        conn.execute(sa.insert(history_table).values(run_id=run_id, step=0, values='{"_step": 0}'))

    with pytest.raises(StoreError):
        any_store._write(duplicate)
