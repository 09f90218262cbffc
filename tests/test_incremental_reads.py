"""Reading what changed (issue 22): the store's change sequence, the incremental run cache and
the agents' incremental claims give exactly what a full read gives, on SQLite and PostgreSQL.

A full read is a new ``Store`` object (an empty cache) reading the sweep whole.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import sqlalchemy as sa
from helpers import checkout_pythonpath, grid

import sweepnb
from sweepnb.store import Store, runs_table, sweeps_table
from sweepnb.store.tables import add_change_seq, update_run

WRITER = textwrap.dedent(
    """
    import random, sys, time
    from sweepnb.store import Store

    url, sweep_id, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    store = Store(url)
    mine = []
    for i in range(count):
        run = store.claim_run(
            sweep_id, lambda sweep, runs: {"x": seed * 1000 + i}, host="w", pid=seed
        )
        mine.append(run["id"])
        store.log(run["id"], [{"loss": rng.random()}], summary={"i": i})
        if rng.random() < 0.7:
            store.finish_run(run["id"], rng.choice(["finished", "failed"]), summary={"end": i})
        if i % 6 == 5:
            store.delete_runs([mine.pop(rng.randrange(len(mine)))])
        time.sleep(rng.random() * 0.01)
    """
)


def full_read(url: str, sweep_id: str, history: bool = True) -> list[dict]:
    fresh = Store(url)
    try:
        return fresh.get_runs(sweep_id, history=history)
    finally:
        fresh.close()


class Follower:
    """A reader keeping its own copy of the sweep from ``Changes`` only (as an agent does)."""

    def __init__(self, store: Store, sweep_id: str, history: bool):
        self.store, self.sweep_id, self.history = store, sweep_id, history
        self.token = None
        self.runs: dict[str, dict] = {}

    def poll(self) -> None:
        got = self.store._read(
            lambda conn: self.store._cache.changes(
                conn, self.sweep_id, history=self.history, since=self.token
            )
        )
        if got.reset:
            self.runs = {r["id"]: r for r in got.runs}
        for run_id in got.removed:
            self.runs.pop(run_id, None)
        for run in got.changed:
            self.runs[run["id"]] = run
        self.token = got.token

    def listing(self) -> list[dict]:
        return sorted(self.runs.values(), key=lambda r: (r["created"], r["id"]))


def test_incremental_reads_equal_a_full_read_after_two_processes_wrote(store_url):
    """Claims, logs, finishes and deletions from two processes, read while they happen: the
    cache (get_runs), a follower of its changes, and a full read end equal."""
    store = Store(store_url)
    sweep_id = store.create_sweep(grid(3))
    env = {**os.environ, "PYTHONPATH": checkout_pythonpath()}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store_url, sweep_id, str(seed), "40"], env=env
        )
        for seed in (1, 2)
    ]
    followers = [Follower(store, sweep_id, history=h) for h in (True, False)]
    polls = 0
    while any(w.poll() is None for w in writers) or polls < 3:
        store.get_runs(sweep_id)
        store.get_runs(sweep_id, history=False)
        for follower in followers:
            follower.poll()
        polls += 1
        time.sleep(0.01)
    assert [w.wait() for w in writers] == [0, 0]
    for follower in followers:
        follower.poll()
    full = full_read(store_url, sweep_id)
    assert len(full) == 2 * (40 - 40 // 6) and polls > 5
    assert store.get_runs(sweep_id) == full
    assert followers[0].listing() == full
    light = full_read(store_url, sweep_id, history=False)
    assert store.get_runs(sweep_id, history=False) == light
    assert followers[1].listing() == light
    store.close()


def test_changes_since_a_token_hold_only_what_changed(any_store):
    sweep_id = any_store.create_sweep(grid(3))
    ids = [any_store.add_run(sweep_id, {"x": i}) for i in range(5)]
    read = any_store._read

    def changes(since):
        return read(
            lambda conn: any_store._cache.changes(conn, sweep_id, history=False, since=since)
        )

    first = changes(None)
    assert first.reset and [r["id"] for r in first.runs] == ids
    nothing = changes(first.token)
    assert not nothing.reset and nothing.changed == [] and nothing.removed == []
    any_store.finish_run(ids[3], "finished", summary={"loss": 1.0})
    any_store.delete_runs([ids[1]])
    new = any_store.add_run(sweep_id, {"x": 9})
    got = changes(nothing.token)
    assert [r["id"] for r in got.changed] == [ids[3], new] and got.removed == [ids[1]]
    assert got.changed[0]["state"] == "finished" and got.changed[0]["summary"] == {"loss": 1.0}


def test_uncopied_runs_are_the_caches_and_stay_as_read_when_a_run_changes(any_store):
    sweep_id = any_store.create_sweep(grid(3))
    ids = [
        any_store.add_run(sweep_id, {"x": i}, history=[{"loss": i}], summary={"loss": i})
        for i in range(2)
    ]
    shared = any_store.get_runs(sweep_id, copy=False)
    assert shared == any_store.get_runs(sweep_id) == full_read(any_store.url, sweep_id)
    assert all(a is b for a, b in zip(shared, any_store.get_runs(sweep_id, copy=False)))
    copies = any_store.get_runs(sweep_id)
    assert not any(a is b for a, b in zip(shared, copies))
    copies[0]["summary"]["loss"] = -1.0  # a copy's change stays in the copy
    assert any_store.get_runs(sweep_id, copy=False)[0]["summary"] == {"loss": 0}
    any_store.log(ids[0], [{"loss": 5}], summary={"loss": 5})
    after = any_store.get_runs(sweep_id, copy=False)
    assert after[0]["summary"] == {"loss": 5} and len(after[0]["history"]) == 2
    assert shared[0]["summary"] == {"loss": 0} and len(shared[0]["history"]) == 1
    assert after[1] is shared[1]  # the run that did not change is not read again


def test_a_deleted_run_leaves_every_reader(any_store):
    sweep_id = any_store.create_sweep(grid(3))
    ids = [any_store.add_run(sweep_id, {"x": i}, history=[{"loss": i}]) for i in range(3)]
    any_store.get_runs(sweep_id)
    assert any_store.delete_runs([ids[0], "nosuchid"]) == [ids[0]]
    for bad in (None, 5, ids[1], [ids[1], 3]):  # refused naming the argument, nothing deleted
        with pytest.raises(TypeError, match="run_ids: expected a list of run ids"):
            any_store.delete_runs(bad)
    assert [r["id"] for r in any_store.get_runs(sweep_id)] == ids[1:]
    assert any_store.get_runs(sweep_id) == full_read(any_store.url, sweep_id)


def test_every_run_write_bumps_the_sweep_sequence_and_stamps_the_run(any_store):
    sweep_id = any_store.create_sweep(grid(3))

    def seqs():
        with any_store.engine.connect() as conn:
            sweep = conn.execute(sa.select(sweeps_table.c.seq).where(sweeps_table.c.id == sweep_id))
            runs = conn.execute(sa.select(runs_table.c.id, runs_table.c.seq))
            return sweep.scalar_one(), dict(runs.all())

    run = any_store.claim_run(sweep_id, lambda s, r: {"x": 0}, host="h", pid=1)["id"]
    assert seqs() == (1, {run: 1})
    any_store.log(run, [{"loss": 1}])
    any_store.heartbeat(run)
    any_store.request_stop(run, {"rule": "test"})
    any_store.finish_run(run, "stopped")
    assert seqs() == (5, {run: 5})
    solo = any_store.add_run(None, {"x": 1})  # a standalone run has no sequence
    any_store.log(solo, [{"loss": 1}])
    assert seqs() == (5, {run: 5, solo: 0})


@pytest.mark.postgres
def test_postgres_writers_of_one_sweep_commit_in_seq_order(fresh_pg_url):
    """A write holds the sweep row until it commits: a second writer waits, then takes the next
    seq. So a reader that sees seq N never misses a lower one committed later."""
    store = Store(fresh_pg_url)
    sweep_id = store.create_sweep(grid(3))
    first, second = (store.add_run(sweep_id, {"x": i}) for i in range(2))
    done = threading.Event()

    def second_writer():
        store.heartbeat(second)
        done.set()

    with store.engine.connect() as conn, conn.begin():
        update_run(conn, runs_table.c.id == first, heartbeat=1.0)  # not committed yet
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not done.wait(0.5)  # the second writer waits for the first's commit
    thread.join(30)
    assert done.is_set()
    with store.engine.connect() as conn:
        got = dict(conn.execute(sa.select(runs_table.c.id, runs_table.c.seq)).all())
    assert got[first] < got[second]
    store.close()


def test_a_store_made_before_the_sequence_gets_it_when_opened(store_url):
    store = Store(store_url)
    sweep_id = store.create_sweep(grid(3))
    ids = [store.add_run(sweep_id, {"x": i}) for i in range(2)]
    store.close()
    with store.engine.begin() as conn:  # a schema-3 store: the columns and index of issue 22 away
        conn.execute(sa.text("DROP INDEX ix_runs_sweep_seq"))
        for table, column in (("sweeps", "seq"), ("sweeps", "deleted_seq"), ("runs", "seq")):
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(sa.text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    store.close()
    reopened = Store(store_url)  # the migration step to version 4 adds them
    assert [r["id"] for r in reopened.get_runs(sweep_id)] == ids
    with reopened.engine.begin() as conn:
        version = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'"))
        assert version.scalar() == "4"
    with reopened.engine.begin() as conn:
        add_change_seq(conn)  # a second time changes nothing
        names = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("runs")}
    assert "seq" in names and "ix_runs_sweep_seq" in indexes
    reopened.finish_run(ids[0], "finished")
    assert reopened.get_runs(sweep_id) == full_read(store_url, sweep_id)
    reopened.close()


def test_a_grid_through_parallel_agents_never_repeats_and_ends_at_its_size(store_url):
    sweep_id = sweepnb.sweep(grid(40), store=store_url)
    sweepnb.agent(
        sweep_id, lambda: sweepnb.log({"loss": 1.0}), store=store_url, n_jobs=2, quiet=True
    )
    runs = full_read(store_url, sweep_id, history=False)
    assert sorted(r["config"]["x"] for r in runs) == list(range(40))
    assert Store(store_url).get_sweep(sweep_id)["state"] == "finished"


def test_an_agent_fills_a_point_freed_by_a_deleted_run(any_store):
    """The run of point 0 is deleted while the agent runs: its next claim (an incremental one)
    sees the deletion and gives point 0 again, then goes on."""
    sweep_id = sweepnb.sweep(grid(6), store=any_store)

    def train():
        if sweepnb.config.x == 2:
            runs = any_store.get_runs(sweep_id, history=False)
            any_store.delete_runs([r["id"] for r in runs if r["config"]["x"] == 0])

    sweepnb.agent(sweep_id, train, store=any_store, quiet=True)
    points = [r["config"]["x"] for r in any_store.get_runs(sweep_id, history=False)]
    assert points == [1, 2, 0, 3, 4, 5]


def test_a_store_whose_sequence_went_back_is_read_whole_again(any_store):
    """A store put back to an older copy (its sweep's seq lower than the cache saw): the cache
    cannot trust what it holds and reads the sweep whole."""
    sweep_id = any_store.create_sweep(grid(3))
    ids = [any_store.add_run(sweep_id, {"x": i}) for i in range(3)]
    any_store.get_runs(sweep_id)
    with any_store.engine.begin() as conn:  # as an older copy of the store would have it
        conn.execute(sa.update(sweeps_table).values(seq=1))
        conn.execute(sa.update(runs_table).where(runs_table.c.id == ids[2]).values(state="failed"))
    assert any_store.get_runs(sweep_id) == full_read(any_store.url, sweep_id)
    assert any_store.get_runs(sweep_id)[2]["state"] == "failed"
