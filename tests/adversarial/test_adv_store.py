"""Issues 14 and 16: the store's files, read-only commands, secrets in URLs, odd ids and paths.

Every test here failed on the code before the fix.
"""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import sweepnb
from sweepnb.cli import agent_command
from sweepnb.cli import main as cli_main
from sweepnb.errors import SweepnbError, SweepNotFound
from sweepnb.store import Store, StoreMissing
from sweepnb.store.db import mask_url
from sweepnb.store.files import files_dir

CFG = {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- files: 0700 folder, 0600 database, whatever the umask -------------------------------------


def test_a_new_store_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        folder = tmp_path / "proj" / ".sweepnb"
        url = f"sqlite:///{folder}/sweeps.db"
        sid = sweepnb.sweep(CFG, store=url)
        sweepnb.agent(sid, lambda: sweepnb.log({"loss": 1.0}), count=1, store=url)
        files = files_dir(url, create=True)
    finally:
        os.umask(old)
    assert mode(folder) == 0o700
    assert mode(folder / "sweeps.db") == 0o600
    for extra in ("sweeps.db-wal", "sweeps.db-shm"):
        if (folder / extra).exists():  # SQLite gives them the database's mode
            assert mode(folder / extra) == 0o600, extra
    assert mode(files) == 0o700


def test_missing_parent_folders_are_private_too(tmp_path, monkeypatch):
    # before: mkdir(parents=True) made the parents 0777 under umask 000 (the last folder alone
    # was 0700): a PostgreSQL store's ./.sweepnb/ beside its files folder, a new project folder
    monkeypatch.chdir(tmp_path)
    old = os.umask(0)
    try:
        Store(f"sqlite:///{tmp_path}/new/project/.sweepnb/sweeps.db").list_sweeps()
        files = files_dir("postgresql://me@db.example/sweeps", create=True)
        monkeypatch.setenv("SWEEPNB_FILES", str(tmp_path / "shared" / "run-files"))
        shared = files_dir("postgresql://me@db.example/sweeps", create=True)
    finally:
        os.umask(old)
    assert files == tmp_path / ".sweepnb" / "files"
    for folder in ("new", "new/project", "new/project/.sweepnb", ".sweepnb", ".sweepnb/files"):
        assert mode(tmp_path / folder) == 0o700, folder
    assert mode(shared) == mode(shared.parent) == 0o700


# -- read-only commands never create a store ----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["ls"], ["show", "abcd1234"], ["export", "abcd1234"], ["agent", "abcd1234", "--count", "1"]],
)
def test_read_only_commands_never_create_a_store(tmp_path, capsys, args):
    db = tmp_path / "nonexistent" / "dir" / "x.db"
    code = cli_main([*args, "--store", f"sqlite:///{db}"])
    out, err = capsys.readouterr()
    assert not (tmp_path / "nonexistent").exists()
    if args == ["ls"]:
        assert code == 0 and "no store at" in out
    else:
        assert code == 2 and "no store at" in err and "\n" not in err.strip()


def test_python_reads_never_create_a_store(tmp_path):
    db = tmp_path / "missing" / "x.db"
    with pytest.raises(StoreMissing, match="no store at"):
        sweepnb.runs("abcd1234", store=str(db))
    with pytest.raises(StoreMissing):
        sweepnb.best_run("abcd1234", store=str(db))
    assert not (tmp_path / "missing").exists()


def test_the_wandb_api_and_the_dashboard_never_create_a_store(tmp_path, monkeypatch):
    # before: Api() and Dashboard() opened their store for writing: a dashboard on a mistyped
    # path made nonexistent/dir/x.db, and Api() in a fresh folder made ./.sweepnb/sweeps.db
    from sweepnb.compat.api import Api
    from sweepnb.notebook.dashboard import Dashboard

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPNB_STORE", raising=False)
    db = tmp_path / "nonexistent" / "dir" / "x.db"
    with pytest.raises(StoreMissing, match="no store at"):
        Dashboard("abcd1234", f"sqlite:///{db}")
    with pytest.raises(SweepNotFound, match="no sweep 'abcd1234'"):
        Api().sweep("abcd1234")
    with pytest.raises(StoreMissing, match="no store at"):
        Api(store=str(db)).runs("me/demo")
    assert not (tmp_path / "nonexistent").exists() and not (tmp_path / ".sweepnb").exists()


def _mount_tmpfs(where: Path) -> bool:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        check=False,
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture
def read_only_store(tmp_path):
    """A real store on a tmpfs remounted read-only (needs the right to mount: root in CI)."""
    where = tmp_path / "ro"
    if not _mount_tmpfs(where):
        pytest.skip("cannot mount a tmpfs here (needs root): read-only file system not tested")
    try:
        url = f"sqlite:///{where}/.sweepnb/sweeps.db"
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text("method: random\nparameters:\n  x: {values: [1]}\n")
        # made in another process: this one must hold no open file there to remount read-only
        made = subprocess.run(
            [sys.executable, "-m", "sweepnb", "sweep", str(cfg), "--store", url],
            check=True,
            capture_output=True,
            text=True,
        )
        sid = made.stdout.split("ID: ")[1].split()[0]
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where, url, sid
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_read_only_file_system_gets_its_own_message(read_only_store, capsys):
    where, url, sid = read_only_store
    for args in (["ls"], ["show", sid]):
        code = cli_main([*args, "--store", url])
        err = capsys.readouterr().err
        assert code == 2, args
        assert "read-only file system" in err and "unable to open" not in err, err
    code = cli_main(["ls", "--store", f"sqlite:///{where}/other/x.db"])
    assert code == 0  # missing and read-only: nothing to list, nothing created


def test_a_new_store_on_a_read_only_file_system(read_only_store, capsys):
    where, _, _ = read_only_store
    code = cli_main(["sweep", str(where.parent / "cfg.yaml"), "--store", f"{where}/new/s.db"])
    err = capsys.readouterr().err
    assert code == 2 and "read-only file system" in err


# -- export and ids ----------------------------------------------------------------------------


@pytest.fixture
def finished(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    sid = sweepnb.sweep(CFG, store=url)
    sweepnb.agent(sid, lambda: sweepnb.log({"loss": sweepnb.config.x}), store=url)
    return url, sid


def test_export_into_a_folder_names_the_file_after_the_sweep(finished, tmp_path, capsys):
    url, sid = finished
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    assert cli_main(["export", sid, "--format", "json", "-o", str(out_dir), "--store", url]) == 0
    assert (out_dir / f"{sid}.json").read_text().startswith("{")
    assert f"{sid}.json" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["{sid}/../{sid}", "../{sid}", "a//{sid}", "./{sid}", "x y/{sid}"])
def test_path_like_sweep_ids_are_refused(finished, capsys, bad):
    url, sid = finished
    assert cli_main(["show", bad.format(sid=sid), "--store", url]) == 2
    assert "expected a sweep id" in capsys.readouterr().err
    with pytest.raises(SweepnbError, match="expected a sweep id"):
        sweepnb.runs(bad.format(sid=sid), store=url)


# -- secrets -----------------------------------------------------------------------------------

SECRET = "k3y-" + uuid.uuid4().hex[:8]


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://me:{SECRET}@127.0.0.1:1/sweeps",
        f"postgresql://me@127.0.0.1:1/sweeps?password={SECRET}",
        f"postgresql://me@127.0.0.1:1/sweeps?sslpassword={SECRET}&sslmode=prefer",
    ],
)
def test_passwords_never_show(url, capsys):
    store = Store(url)
    assert SECRET not in repr(store) and SECRET not in str(store)
    assert SECRET not in mask_url(url)
    assert SECRET not in agent_command("abcd1234", url)
    with pytest.raises(SweepnbError) as caught:
        store.list_sweeps()  # port 1: connection refused, the driver's message echoes options
    assert SECRET not in str(caught.value)
    assert cli_main(["ls", "--store", url]) == 2
    out, err = capsys.readouterr()
    assert SECRET not in out + err and "***" not in url
    # the pickle sent to workers keeps the URL (documented): it must still connect there
    assert pickle.loads(pickle.dumps(store)).url == store.url


@pytest.mark.postgres
def test_secrets_in_the_query_never_show_on_a_real_server(pg_url, tmp_path, capsys):
    # before: store.engine_url (and any SQLAlchemy message quoting it) printed ?password= and
    # ?sslpassword= in clear; the CLI and the agent command were already masked
    from sqlalchemy.engine import make_url

    real = make_url(pg_url)
    ssl_secret = "ssl-" + uuid.uuid4().hex[:8]
    url = (
        real.set(password=None)
        .update_query_dict({"password": real.password, "sslpassword": ssl_secret})
        .render_as_string(hide_password=False)
    )
    store = Store(url)
    for shown in (str(store.engine_url), repr(store.engine_url), repr(store), str(store)):
        assert real.password not in shown and ssl_secret not in shown, shown
    sid = sweepnb.sweep(CFG, store=url)  # the secrets still reach the server
    sweepnb.agent(sid, lambda: sweepnb.log({"loss": 1.0}), count=2, store=url)
    assert cli_main(["show", sid, "--store", url]) == 0
    with pytest.raises(SweepnbError) as caught:
        store._read(lambda conn: conn.exec_driver_sql("SELECT no_such_column"))
    out, err = capsys.readouterr()
    for text in (out, err, str(caught.value), agent_command(sid, url)):
        assert real.password not in text and ssl_secret not in text
    assert "finished" in out


@pytest.mark.parametrize("command", ["show", "export", "agent"])
def test_a_store_url_given_as_the_sweep_id_is_not_echoed(command, capsys):
    # before: the sweep-id error quoted the whole argument, password included
    url = f"postgresql://me:{SECRET}@db.example/sweeps?sslpassword={SECRET}"
    assert cli_main([command, url]) == 2
    err = capsys.readouterr().err
    assert SECRET not in err and "me:***@db.example" in err and "--store" in err
