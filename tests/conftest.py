"""Shared fixtures: real stores on a SQLite file and on a real PostgreSQL server.

- ``store``: a :class:`sweepnb.store.Store` on a fresh SQLite file in ``tmp_path``.
- ``pg_url`` (session): a PostgreSQL URL. ``$SWEEPNB_TEST_POSTGRES`` if set (``.ci/run`` sets
  it), else a throwaway server started with ``.ci/postgres.sh`` for this session. When no
  server can be started the test is skipped with the reason, or fails when ``CI=true``.
- ``fresh_pg_url``: ``pg_url`` pointed at a new, empty schema (dropped afterwards), so each
  test starts from an empty store.
- ``store_url`` / ``any_store``: parametrised over both backends (ids ``sqlite``, ``postgres``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCRIPT = ROOT / ".ci" / "postgres.sh"


def _unavailable(reason: str) -> None:
    """Skip (or fail in CI, where PostgreSQL must work) a test that needs PostgreSQL."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"no PostgreSQL server: {reason}")


def _start_postgres() -> tuple[str, str]:
    """Run .ci/postgres.sh; return (url, cluster dir) from the export lines it prints."""
    try:
        done = subprocess.run(
            ["bash", str(POSTGRES_SCRIPT)],
            # the script stops the cluster itself if this process dies without its teardown
            env={**os.environ, "SWEEPNB_PG_WATCH_PID": str(os.getpid())},
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{POSTGRES_SCRIPT.name} could not run: {exc}") from None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"{POSTGRES_SCRIPT.name} failed: {' | '.join(tail)}")
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in done.stdout.splitlines()
        if line.startswith("export ")
    )
    return exports["SWEEPNB_TEST_POSTGRES"], exports["SWEEPNB_TEST_POSTGRES_DIR"]


@pytest.fixture(scope="session")
def _pg_server() -> Iterator[tuple[str | None, str]]:
    """(url or None, why not) for the whole session; a server we started is stopped at the end."""
    url = os.environ.get("SWEEPNB_TEST_POSTGRES")
    if url:
        yield url, ""
        return
    try:
        url, cluster_dir = _start_postgres()
    except RuntimeError as exc:
        yield None, str(exc)
        return
    try:
        yield url, ""
    finally:
        subprocess.run(
            ["bash", str(POSTGRES_SCRIPT), "--stop", cluster_dir],
            check=False,
            capture_output=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def pg_url(_pg_server: tuple[str | None, str]) -> str:
    """A PostgreSQL URL with a password (``postgresql://user:pass@127.0.0.1:PORT/db``)."""
    url, why = _pg_server
    if url is None:
        _unavailable(why)
    return url


def _admin_execute(url: str, statement: str) -> None:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def fresh_pg_url(pg_url: str) -> Iterator[str]:
    """``pg_url`` with ``search_path`` set to a new empty schema (dropped after the test)."""
    schema = "t_" + secrets.token_hex(6)
    try:
        _admin_execute(pg_url, f"CREATE SCHEMA {schema}")
    except Exception as exc:  # noqa: BLE001 - reported as a skip/failure with the reason
        _unavailable(f"cannot create a schema: {type(exc).__name__}: {exc}")
    separator = "&" if "?" in pg_url else "?"
    yield f"{pg_url}{separator}options={quote(f'-csearch_path={schema}')}"
    _admin_execute(pg_url, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def store(tmp_path: Path):
    """A Store on a fresh SQLite file in ``tmp_path``."""
    from sweepnb.store import Store

    s = Store(tmp_path / "sweeps.db")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store, once per backend: SQLite file, then PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sweeps.db'}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
def any_store(store_url: str):
    """A Store on an empty database, once per backend (SQLite and PostgreSQL)."""
    from sweepnb.store import Store

    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _no_active_run():
    """No test leaves an active run (or a last run behind ``sweepnb.config``) to the next."""
    yield
    from sweepnb.runtime import run as runmod

    active = runmod.current()
    if active is not None:
        active.finish()
    runmod.deactivate(forget=True)


@pytest.fixture
def db(tmp_path):
    """The path of a SQLite store in tmp_path (the ``ip`` shell's store)."""
    return str(tmp_path / "sweeps.db")


@pytest.fixture
def ip(tmp_path, db, monkeypatch):
    """A fresh IPython shell with sweepnb's magics loaded; the store is ``db``."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWEEPNB_STORE", db)
    config = Config()
    config.HistoryAccessor.enabled = False
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "sweepnb")
    yield shell
    shell.run_line_magic("unload_ext", "sweepnb")
    InteractiveShell.clear_instance()


@pytest.fixture
def kernel_env(monkeypatch) -> None:
    """The environment of a Jupyter kernel started by the test: this checkout's sweepnb, Agg."""
    from helpers import checkout_pythonpath

    monkeypatch.setenv("PYTHONPATH", checkout_pythonpath())
    monkeypatch.setenv("MPLBACKEND", "Agg")
