"""``wandb.Api()`` offline (issue 12.5): sweeps, runs and artifacts read back from a real store
after a real sweep, through W&B's path forms."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import sweepnb
from sweepnb.errors import SweepnbError, SweepNotFound
from sweepnb.store.artifacts import ArtifactNotFound

CONFIG = {
    "method": "grid",
    "name": "api-demo",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"values": [3, 1, 2]}},
}


def train():
    """Four epochs; the loss ends lowest for x == 1, but x == 3 passes through the lowest value
    on the way (so the best run by best value differs from the one by last value)."""
    run = sweepnb.init()
    x = run.config.x
    losses = [5.0, 0.5, 4.0, 4.5] if x == 3 else [x + 2 - e / 4 for e in range(4)]
    for epoch, loss in enumerate(losses):
        sweepnb.log({"loss": loss, "epoch": epoch, "lr": 0.1 / (epoch + 1)})
    sweepnb.finish()


@pytest.fixture
def swept(store):
    """(store, sweep id) of a finished 3-run grid sweep in project ``proj`` of entity ``ent``."""
    sid = sweepnb.sweep(CONFIG, project="proj", entity="ent", store=store)
    sweepnb.agent(sid, train, store=store, quiet=True)
    return store, sid


# -- sweeps ----------------------------------------------------------------------------------


def test_best_run_of_the_api_sweep_is_sweepnbs_best_run(swept):
    store, sid = swept
    best = sweepnb.Api(store=store).sweep(f"ent/proj/{sid}").best_run()
    assert best.id == sweepnb.best_run(sid, store=store)["id"]
    assert best.config == {"x": 3}  # its best loss (0.5) beats x=1's last (2.25)


def test_best_run_with_an_order_ranks_by_the_summary_value(swept):
    store, sid = swept
    sweep = sweepnb.Api(store=store).sweep(sid)
    assert sweep.best_run(order="+summary_metrics.loss").config == {"x": 1}
    assert sweep.best_run(order="-loss").config == {"x": 3}
    assert sweep.best_run(order="+summary_metrics.missing") is None


@pytest.mark.parametrize("form", ["ent/proj/{}", "ent/proj/sweeps/{}", "proj/{}", "{}"])
def test_every_wandb_sweep_path_form_finds_the_sweep(swept, form):
    store, sid = swept
    sweep = sweepnb.Api(store=store).sweep(form.format(sid))
    assert sweep.id == sid
    assert sweep.config == store.get_sweep(sid)["config"]
    assert sweep.config["parameters"]["x"]["values"] == [3, 1, 2]
    assert sweep.name == "api-demo"
    assert sweep.state == "FINISHED"
    assert sweep.url is None
    assert sweep.path == ["ent", "proj", sid]
    assert sorted(r.config["x"] for r in sweep.runs) == [1, 2, 3]


def test_the_store_comes_from_sweepnb_store_when_not_given(swept, monkeypatch):
    store, sid = swept
    monkeypatch.setenv("SWEEPNB_STORE", store.url)
    assert sweepnb.Api().sweep(sid).id == sid


# -- runs ------------------------------------------------------------------------------------


def test_run_history_is_a_dataframe_of_the_logged_rows(swept):
    store, sid = swept
    run = sweepnb.Api(store=store).sweep(sid).best_run()
    history = run.history()
    assert isinstance(history, pd.DataFrame)
    assert history["loss"].tolist() == [5.0, 0.5, 4.0, 4.5]
    assert history["epoch"].tolist() == [0, 1, 2, 3]
    assert history["_step"].tolist() == [0, 1, 2, 3]
    assert run.history(keys=["lr"]).columns.tolist() == ["_step", "lr"]
    assert run.history(samples=2)["epoch"].tolist() == [0, 3]
    assert run.history(pandas=False)[1]["loss"] == 0.5


def test_scan_history_yields_every_row_and_keys_select_columns(swept):
    store, sid = swept
    run = sweepnb.Api(store=store).sweep(sid).best_run()
    assert [row["loss"] for row in run.scan_history()] == [5.0, 0.5, 4.0, 4.5]
    assert next(iter(run.scan_history(keys=["epoch"]))) == {"_step": 0, "epoch": 0}
    assert [row["_step"] for row in run.scan_history(min_step=1, max_step=3)] == [1, 2]


def test_a_run_shows_config_summary_state_name_and_its_sweep(swept):
    store, sid = swept
    api = sweepnb.Api(store=store)
    record = store.get_runs(sid)[0]
    for path in (f"ent/proj/{record['id']}", f"ent/proj/runs/{record['id']}", record["id"]):
        run = api.run(path)
        assert run.id == run.name == record["id"]
        assert run.state == "finished"
        assert run.config == record["config"]
        assert run.summary["loss"] == record["summary"]["loss"]
        assert run.summary.get("nothing") is None
        assert run.sweep.id == sid
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", run.created_at)


def test_runs_of_a_project_and_of_a_sweep(swept):
    store, sid = swept
    api = sweepnb.Api(store=store)
    with sweepnb.init(store=store, project="other"):
        sweepnb.log({"loss": 1})
    assert len(api.runs("ent/proj")) == 3
    assert len(api.runs("other")) == 1
    assert len(api.runs()) == 4
    assert len(api.runs(f"ent/proj/sweeps/{sid}")) == 3
    by_loss = api.runs("ent/proj", order="+summary_metrics.loss")
    assert [r.config["x"] for r in by_loss] == [1, 2, 3]


def test_runs_filters_on_sweep_and_state(swept):
    store, sid = swept
    api = sweepnb.Api(store=store)
    store.add_run(sid, {"x": 9}, state="failed")
    assert len(api.runs("ent/proj", filters={"sweep": sid})) == 4
    assert len(api.runs("ent/proj", filters={"state": "finished"})) == 3
    failed = api.runs("ent/proj", filters={"sweep": sid, "state": {"$in": ["failed"]}})
    assert [r.config for r in failed] == [{"x": 9}]


def test_runs_histories_frame_has_one_block_per_run(swept):
    store, sid = swept
    frame = sweepnb.Api(store=store).sweep(sid).runs.histories()
    assert len(frame) == 12
    assert frame.groupby("run_id").size().tolist() == [4, 4, 4]


# -- artifacts -------------------------------------------------------------------------------


def test_api_artifact_and_a_runs_logged_and_used_artifacts(store, tmp_path):
    (tmp_path / "m.pt").write_bytes(b"weights")
    with sweepnb.init(store=store, project="proj") as producer:
        art = sweepnb.Artifact("model", type="model")
        art.add_file(tmp_path / "m.pt")
        producer.log_artifact(art, aliases=["best"])
    with sweepnb.init(store=store, project="proj") as consumer:
        consumer.use_artifact("model:best")
    api = sweepnb.Api(store=store)
    found = api.artifact("ent/proj/model:latest", type="model")
    assert found.name == "model:v0"
    assert found.logged_by_run_id == producer.id
    assert found.used_by_run_ids == [consumer.id]
    assert [a.name for a in api.run(producer.id).logged_artifacts()] == ["model:v0"]
    assert [a.name for a in api.run(consumer.id).used_artifacts()] == ["model:v0"]
    assert [a.version for a in api.artifacts("model", "model")] == ["v0"]
    assert api.artifact_exists("model:v0") and not api.artifact_exists("model:v1")


# -- bad input -------------------------------------------------------------------------------


def test_unknown_sweeps_runs_and_projects_are_named(swept):
    store, _ = swept
    api = sweepnb.Api(store=store)
    with pytest.raises(SweepNotFound, match=r"path: no sweep 'zzzzzzzz' \(from 'e/p/zzzzzzzz'\)"):
        api.sweep("e/p/zzzzzzzz")
    with pytest.raises(SweepNotFound, match=r"path: no run 'nope'"):
        api.run("ent/proj/runs/nope")
    with pytest.raises(SweepNotFound, match=r"no runs in project 'nope'.*projects: proj"):
        api.runs("ent/nope")
    with pytest.raises(SweepNotFound, match=r"filters: no sweep 'zzzzzzzz'"):
        api.runs("ent/proj", filters={"sweep": "zzzzzzzz"})
    with pytest.raises(ArtifactNotFound, match=r"no artifact 'ghost'"):
        api.artifact("ghost:latest")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda api: api.sweep("a/b/c/d/e"), ValueError, r"path: 'a/b/c/d/e' is not ID"),
        (lambda api: api.sweep(""), ValueError, "path: expected a non-empty string"),
        (lambda api: api.run(None), ValueError, "path: expected a non-empty string"),
        (
            lambda api: api.runs("ent/proj", filters={"config.x": {"$near": 1}}),
            SweepnbError,
            r"filters.config.x: operator '\$near' is not supported",
        ),
        (
            lambda api: api.runs("ent/proj", filters={"$where": "x > 1"}),
            SweepnbError,
            r"filters: operator '\$where' is not supported",
        ),
        (
            lambda api: api.runs("ent/proj", filters={"colour": "red"}),
            SweepnbError,
            r"filters: field 'colour' is not one sweepnb filters on",
        ),
        (
            lambda api: api.runs("ent/proj", filters={"$or": {"state": "x"}}),
            SweepnbError,
            r"filters.\$or: expected a non-empty list",
        ),
        (
            lambda api: api.runs("ent/proj", filters={"state": {"$in": "finished"}}),
            SweepnbError,
            r"filters.state.\$in: expected a list",
        ),
        (lambda api: api.runs("ent/proj", per_page=0), ValueError, "per_page"),
        (lambda api: api.sweep(api._sid).runs[0].history(samples=0), ValueError, "samples"),
        (lambda api: Api_with(overrides=[1]), TypeError, "overrides"),
    ],
)
def test_bad_arguments_get_an_error_naming_them(swept, call, error, message):
    store, sid = swept
    api = sweepnb.Api(store=store)
    api._sid = sid
    with pytest.raises(error, match=message):
        call(api)


def Api_with(**kw):
    return sweepnb.Api(**kw)


def test_the_api_is_read_only(swept):
    store, sid = swept
    run = sweepnb.Api(store=store).sweep(sid).runs[0]
    with pytest.raises(SweepnbError, match="read-only"):
        run.update()
    with pytest.raises(SweepnbError, match="read-only"):
        run.delete()


def test_wandb_api_names_sweepnb_lacks_say_so_by_name(swept):
    store, sid = swept
    api = sweepnb.Api(store=store)
    with pytest.raises(AttributeError, match=r"Api.reports: sweepnb does not support"):
        api.reports("ent/proj")
    with pytest.raises(AttributeError, match=r"Run.files: sweepnb does not support"):
        api.sweep(sid).runs[0].files()
    assert not hasattr(api.sweep(sid), "expected_run_count")


def test_the_default_project_of_overrides_scopes_runs(swept):
    store, _ = swept
    with sweepnb.init(store=store, project="other"):
        sweepnb.log({"loss": 1})
    assert len(sweepnb.Api({"project": "other"}, store=store).runs()) == 1
    assert len(sweepnb.Api(store=store).runs()) == 4


# -- what W&B's public Run reads back (issue 23.4) ---------------------------------------------


def named_train():
    """x=1 is named, tagged and grouped; x=2 gets nothing (its name is its id); x=3 a name."""
    x = sweepnb.config.x
    attrs = {
        1: {"name": "small-x", "tags": ["baseline", "cpu"], "notes": "first", "group": "g1"},
        3: {"name": "big-x", "job_type": "train"},
    }.get(x, {})
    run = sweepnb.init(**attrs)
    for epoch in range(3):
        sweepnb.log({"acc": x / 10 + epoch / 100, "epoch": epoch})
    run.finish()


@pytest.fixture
def named(store):
    sid = sweepnb.sweep(
        {"method": "grid", "metric": {"name": "acc", "goal": "maximize"},
         "parameters": {"x": {"values": [1, 2, 3]}, "lr": {"value": 0.05}}},
        project="proj", store=store,
    )  # fmt: skip
    sweepnb.agent(sid, named_train, store=store, quiet=True)
    return sweepnb.Api(store=store), sid


def test_a_public_run_reads_back_the_name_tags_notes_group_and_job_type_it_was_given(named):
    api, sid = named
    by_x = {r.config["x"]: r for r in api.runs(f"proj/sweeps/{sid}")}
    small = api.run(f"ent/proj/{by_x[1].id}")
    assert small.name == small.display_name == "small-x"
    assert small.id != small.name and len(small.id) == 8
    assert small.tags == ["baseline", "cpu"]
    assert small.notes == "first"
    assert small.group == "g1"
    assert small.job_type is None
    assert small.url is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", small.created_at)
    assert small.config == {"x": 1, "lr": 0.05}
    assert small.summary["acc"] == pytest.approx(0.12)
    assert api.run(by_x[3].id).job_type == "train"
    unnamed = api.run(by_x[2].id)
    assert unnamed.name == unnamed.id  # W&B would have made a name up; sweepnb shows the id
    assert unnamed.tags == [] and unnamed.notes is None and unnamed.group is None


def test_history_and_scan_history_read_the_logged_rows_as_wandb_gives_them(named):
    api, _ = named
    run = next(r for r in api.runs(filters={"display_name": "big-x"}))
    frame = run.history(keys=["acc"], samples=2)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == ["_step", "acc"]
    assert frame["_step"].tolist() == [0, 2]
    assert [row["epoch"] for row in run.scan_history()] == [0, 1, 2]


@pytest.mark.parametrize(
    ("filters", "xs"),
    [
        ({"state": "finished"}, [1, 2, 3]),
        ({"config.x": {"$gt": 1}}, [2, 3]),
        ({"config.x.value": {"$gte": 2}}, [2, 3]),  # W&B's own spelling of a config value
        ({"config.x": {"$lt": 2}}, [1]),
        ({"config.x": {"$lte": 2, "$ne": 1}}, [2]),
        ({"config.x": {"$in": [1, 3]}}, [1, 3]),
        ({"config.x": {"$nin": [1, 3]}}, [2]),
        ({"config.x": 2}, [2]),
        ({"config.lr": {"$gt": 0.01}}, [1, 2, 3]),
        ({"summary_metrics.acc": {"$gte": 0.2}}, [2, 3]),
        ({"$and": [{"config.x": {"$gt": 1}}, {"display_name": {"$ne": "big-x"}}]}, [2]),
        ({"$or": [{"config.x": 1}, {"jobType": "train"}]}, [1, 3]),
        ({"$nor": [{"config.x": 1}, {"config.x": 3}]}, [2]),
        ({"tags": "cpu"}, [1]),
        ({"tags": {"$in": ["gpu", "baseline"]}}, [1]),
        ({"group": {"$exists": True}}, [1]),
        ({"display_name": {"$regex": "^b"}}, [3]),
        ({"config.x": {"$not": {"$gt": 1}}}, [1]),
        ({"config.missing": {"$gt": 0}}, []),
        ({"state": {"$in": ["failed", "crashed"]}}, []),
        ({"config.x": {"$gt": "1"}}, []),  # a string never compares with a number
    ],
)
def test_runs_filters_answer_wandbs_mongodb_style_queries(named, filters, xs):
    api, sid = named
    found = api.runs(f"proj/sweeps/{sid}", filters=filters)
    assert sorted(r.config["x"] for r in found) == xs


def test_runs_filters_on_the_sweep_and_name_fields(named):
    api, sid = named
    assert len(api.runs("proj", filters={"sweep": sid, "config.x": {"$gte": 2}})) == 2
    run_id = api.runs("proj", filters={"display_name": "small-x"})[0].id
    assert [r.id for r in api.runs("proj", filters={"name": run_id})] == [run_id]  # W&B: id
    # an operator on the sweep field filters like any other field
    assert len(api.runs("proj", filters={"sweep": {"$in": [sid]}})) == 3
    assert len(api.runs("proj", filters={"sweep": {"$in": ["nosuchsweep"]}})) == 0


def test_runs_order_by_a_summary_metric_descending_and_the_best_run_by_order(named):
    api, sid = named
    ranked = api.runs(f"ent/proj/sweeps/{sid}", order="-summary_metrics.acc")
    assert [r.config["x"] for r in ranked] == [3, 2, 1]
    assert [r.config["x"] for r in api.runs("proj", order="+config.x")] == [1, 2, 3]
    sweep = api.sweep(sid)
    assert sweep.best_run().name == "big-x"
    assert sweep.best_run(order="+summary_metrics.acc").name == "small-x"
