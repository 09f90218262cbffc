"""Store URLs and database connections: which database a store URL means, its password kept
out of every message, and a per-process SQLAlchemy engine set up for many agents at once.

>>> mask_url("postgresql://alice:s3cret@db.example/sweeps")
'postgresql://alice:***@db.example/sweeps'
>>> mask_url("postgresql://alice@db.example/sweeps?sslpassword=k3y")
'postgresql://alice@db.example/sweeps?sslpassword=***'
"""

from __future__ import annotations

import os
import random
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from sweepnb.errors import StoreError, SweepnbWarning, SweepNotFound
from sweepnb.store.files import private_dir

__all__ = [
    "Database",
    "StoreMissing",
    "create_engine",
    "mask_url",
    "passwords",
    "resolve_url",
    "split_secrets",
    "sqlalchemy_url",
]

DEFAULT_PATH = Path(".sweepnb") / "sweeps.db"
SQLITE_BUSY_TIMEOUT_S = 30.0
BUSY_TIMEOUT_ENV = "SWEEPNB_SQLITE_BUSY_TIMEOUT"  # seconds SQLite waits for a lock per attempt
RETRY_ENV = "SWEEPNB_STORE_RETRY"  # seconds a store keeps retrying a passing error (locks, outages)
DEFAULT_RETRY_S = 60.0


def _seconds_from_env(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise StoreError(f"${name}: expected a number of seconds from 0 to 86400, got {text!r}")
    return value


def retry_seconds() -> float:
    """How long a store retries passing errors before it gives up: ``$SWEEPNB_STORE_RETRY``
    (seconds), default 60."""
    return _seconds_from_env(RETRY_ENV, DEFAULT_RETRY_S)


def busy_timeout_seconds() -> float:
    """How long SQLite waits for another writer's lock in one attempt (default 30 s)."""
    return _seconds_from_env(BUSY_TIMEOUT_ENV, SQLITE_BUSY_TIMEOUT_S)


# SQLSTATE classes that no retry mends: 28 (wrong password), 3D (no such database), 42 (SQL),
# 53 (disk full, out of memory), 54 (limits)
_FINAL_SQLSTATE_CLASSES = ("28", "3D", "42", "53", "54")


def is_passing(exc: BaseException) -> bool:
    """True for an error that may go away on its own: SQLite's lock timeouts, and PostgreSQL's
    lost or refused connections, restarts and serialisation conflicts. Disk full, read-only
    files, schema and SQL errors are final."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        return not str(sqlstate).startswith(_FINAL_SQLSTATE_CLASSES) and isinstance(
            exc, (sa.exc.OperationalError, sa.exc.InterfaceError)
        )
    text = str(orig).lower()
    if "locked" in text or "busy" in text:  # sqlite3: database is locked / table is locked
        return True
    # psycopg without a SQLSTATE: the connection itself failed (refused, reset, closed)
    return type(orig).__module__.startswith("psycopg") and isinstance(
        exc, (sa.exc.OperationalError, sa.exc.InterfaceError)
    )


def resolve_url(url: str | os.PathLike | None = None) -> str:
    """The store URL the user means: ``url``, else ``$SWEEPNB_STORE``, else ``./.sweepnb/sweeps.db``.

    Paths (and ``sqlite:///`` URLs) become absolute ``sqlite:////…`` URLs so child processes
    started elsewhere open the same file. ``postgres://`` is spelled ``postgresql://``.
    """
    if url is None:
        url = os.environ.get("SWEEPNB_STORE") or str(DEFAULT_PATH)
    text = os.fspath(url).strip()
    if not text:
        raise StoreError("store: empty store URL")
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().absolute())
    scheme, rest = text.split("://", 1)
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        path = rest.removeprefix("/")
        if path in ("", ":memory:"):
            raise StoreError(
                "store: an in-memory SQLite database cannot be shared between agents; "
                "give a file path"
            )
        return "sqlite:///" + str(Path(path).expanduser().absolute())
    if base in ("postgresql", "postgres"):
        _check_postgres_url(rest)
        return "postgresql://" + rest
    raise StoreError(
        f"store: unsupported URL scheme {scheme!r}; use a path, sqlite:///PATH or "
        "postgresql://user:pass@host/db"
    )


def _check_postgres_url(rest: str) -> None:
    """StoreError for a PostgreSQL URL that would be misread; never echoes the URL's text
    (a misread URL is exactly where a password ends up in the host or port)."""
    netloc = rest.split("/", 1)[0]
    if netloc.count("@") > 1:
        raise StoreError(
            "store: the PostgreSQL URL has more than one '@'; write an '@' in the user name "
            "or password as %40 (postgresql://user:pa%40ss@host/db)"
        )
    try:
        make_url("postgresql://" + rest).port  # noqa: B018 - parsing the port is the check
    except (ValueError, sa.exc.ArgumentError):
        raise StoreError(
            "store: cannot read the PostgreSQL URL (is the port a number?); expected "
            "postgresql://user:pass@host[:port]/db, with special characters URL-encoded"
        ) from None


# libpq's connection parameters that hold a secret (the others, sslkey and passfile included,
# are file paths or settings): masked in every URL we show and cut out of driver messages
SECRET_PARAMETERS = ("password", "sslpassword")


def passwords(url: URL | str) -> list[str]:
    """Every password in ``url`` (user part and ``?password=``/``?sslpassword=``), to cut out of
    driver messages."""
    url = make_url(url) if isinstance(url, str) else url
    found = [str(url.password)] if url.password else []
    for name in SECRET_PARAMETERS:
        query = url.query.get(name)
        found += [query] if isinstance(query, str) else list(query or ())
    return [p for p in found if p]


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (``postgresql://user:***@host/db``)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - never let masking itself leak the text
        return "<unparseable store URL>"
    secret = {name: "***" for name in SECRET_PARAMETERS if name in parsed.query}
    if secret:
        parsed = parsed.update_query_dict(secret)
    text = parsed.render_as_string(hide_password=parsed.password is not None)
    return text.replace("=%2A%2A%2A", "=***")


def sqlalchemy_url(url: str) -> URL:
    """The SQLAlchemy URL of a resolved store URL (PostgreSQL through psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def split_secrets(url: URL) -> tuple[URL, dict[str, str]]:
    """``url`` with no secret left in its query, and the driver arguments that carry them.

    ``?password=`` moves to the user part (which SQLAlchemy masks whenever a URL is printed);
    the other secret parameters (``?sslpassword=``) go to the driver beside the URL, so printing
    the engine's URL, or an error quoting it, never shows them.
    """
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items() if v}
    secrets = {name: query[name] for name in SECRET_PARAMETERS if name in query}
    if not secrets:
        return url, {}
    url = url.difference_update_query(secrets)
    password = secrets.pop("password", None)
    if password is not None:  # libpq: the query's password wins over the user part's
        url = url.set(password=password)
    return url, secrets


class _PassingOpenError(Exception):
    """Opening a SQLite store met another process's lock (retried)."""


class StoreMissing(StoreError, SweepNotFound):
    """A read-only command named a SQLite store that does not exist (nothing was created)."""


def _read_only_fs(path: Path) -> bool:
    """True if ``path`` (or its nearest existing parent) is on a read-only file system."""
    for folder in (path, *path.parents):
        if folder.exists():
            try:
                return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
            except OSError:
                return False
    return False


def read_only_message(path: Path) -> str:
    """The one line for a SQLite store on a read-only file system."""
    return (
        f"store {path}: its folder is on a read-only file system; give a store on a writable "
        "disk (--store PATH or $SWEEPNB_STORE)"
    )


def _create_sqlite_file(path: Path) -> None:
    """Make the store's folder (0700, and any missing parent) and an empty database file (0600)
    whatever the umask: a store may hold secrets in its configs. SQLite gives its -wal/-shm
    files the database's mode."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _sqlite_engine(url: URL, *, create: bool = True) -> Engine:
    path = Path(url.database)
    if not create and not path.exists():
        raise StoreMissing(
            f"no store at {path}: nothing has been swept there yet (`sweepnb sweep` or "
            "sweepnb.sweep() creates it)"
        )
    try:
        _create_sqlite_file(path)
    except OSError as exc:
        if _read_only_fs(path):
            raise StoreError(read_only_message(path)) from None
        raise StoreError(f"store {path}: cannot create it: {exc.strerror or exc}") from None
    busy = busy_timeout_seconds()
    engine = sa.create_engine(url, connect_args={"timeout": busy})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # take transaction control away from the sqlite3 module so that we emit BEGIN ourselves
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # writers take the write lock up front: a deferred transaction that reads and then
        # writes can fail with "database is locked" without waiting for the busy timeout
        immediate = conn.get_execution_options().get("sweepnb_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_engine(
    url: URL, *, create: bool = True, secrets: dict[str, str] | None = None
) -> Engine:
    """A SQLAlchemy engine for this process: SQLite in WAL with a busy timeout, or PostgreSQL.

    With ``create=False`` a SQLite file that does not exist raises :class:`StoreMissing`.
    ``secrets`` are driver arguments kept out of the URL (:func:`split_secrets`).
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, create=create)
    return sa.create_engine(url, pool_pre_ping=True, connect_args=dict(secrets or {}))


class Database:
    """A store URL and this process's connections to it: one engine per process (re-created
    after ``fork``), transactions with the password masked out of every error.

    Subclasses set up the schema in :meth:`prepare` (called once per new engine).
    """

    def __init__(self, url: str | os.PathLike | None = None, *, create: bool = True):
        self.url: str = resolve_url(url)
        self.create = create  # False: read-only use never creates a SQLite store
        self.display_url: str = mask_url(self.url)
        self._sa_url, self._secrets = split_secrets(sqlalchemy_url(self.url))
        self._engine_obj: Engine | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._lock_pid = os.getpid()
        self._reached = False  # a transaction succeeded: later connection errors are outages

    def prepare(self, engine: Engine) -> None:
        """Set up a newly opened engine's database (nothing by default)."""

    @property
    def engine_url(self) -> URL:
        """The SQLAlchemy URL (driver spelled out; printed, it masks the password). A
        ``?password=`` is in its user part; an ``?sslpassword=`` is not in it at all (it goes to
        the driver aside: give it as ``connect_args`` if you open your own engine)."""
        return self._sa_url

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._sa_url.get_backend_name()

    def close(self) -> None:
        """Close this process's connections (the store re-opens on next use)."""
        with self._process_lock():
            if self._engine_obj is not None and self._pid == os.getpid():
                self._engine_obj.dispose()
            self._engine_obj = None

    @property
    def engine(self) -> Engine:
        """This process's SQLAlchemy engine (re-created after fork; schema checked on creation)."""
        pid = os.getpid()
        if self._engine_obj is not None and self._pid == pid:
            return self._engine_obj
        with self._process_lock():
            if self._engine_obj is None or self._pid != pid:
                if self._engine_obj is not None:
                    # inherited from the parent: drop its pool without closing its sockets
                    self._engine_obj.dispose(close=False)
                engine = self._open_engine()
                self._engine_obj, self._pid = engine, pid
        return self._engine_obj

    def _process_lock(self) -> threading.Lock:
        # a lock inherited through fork may be held by a thread that does not exist here
        if self._lock_pid != os.getpid():
            self._lock, self._lock_pid = threading.Lock(), os.getpid()
        return self._lock

    def _open_engine(self) -> Engine:
        # several processes opening a brand-new SQLite store at once meet each other's locks
        # while one sets up WAL and the schema: those are retried like any passing lock
        deadline = time.monotonic() + retry_seconds()
        while True:
            try:
                return self._open_engine_once()
            except _PassingOpenError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot open store {self.display_url}: database is locked"
                    ) from None
                time.sleep(random.uniform(0.02, 0.2))

    def _open_engine_once(self) -> Engine:
        engine = None
        try:
            engine = create_engine(self._sa_url, create=self.create, secrets=self._secrets)
            self.prepare(engine)
        except (StoreError, sa.exc.SQLAlchemyError, OSError) as exc:
            if engine is not None:
                engine.dispose()
            if isinstance(exc, StoreError):
                raise
            if self.backend == "sqlite" and is_passing(exc):
                raise _PassingOpenError from None
            if self.backend == "sqlite" and _read_only_fs(Path(self._sa_url.database)):
                raise StoreError(read_only_message(Path(self._sa_url.database))) from None
            raise StoreError(f"cannot open store {self.display_url}: {self._mask(exc)}") from None
        return engine

    def _mask(self, exc: BaseException | str) -> str:
        if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
            exc = exc.orig  # the driver's own message, without SQLAlchemy's SQL/background text
        text = str(exc).strip()
        for password in passwords(self.url):
            text = text.replace(password, "***")
        return text

    def _transaction(self, fn: Callable[[Connection], Any], *, write: bool) -> Any:
        """Run ``fn(conn)`` in one transaction (a write lock up front when ``write``).

        A passing error (a lock held past SQLite's busy timeout, a PostgreSQL restart or lost
        connection) rolls the transaction back and runs it again, with exponential back-off,
        for up to :func:`retry_seconds` (``$SWEEPNB_STORE_RETRY``, default 60 s); then, or at
        once for a final error (disk full, read-only file, SQL), it raises ``StoreError``.
        Outages are retried only once this process has reached the store (a wrong password or
        host on first use fails at once).
        """
        engine = self.engine
        deadline = None
        delay = 0.05
        while True:
            try:
                with engine.connect() as conn:
                    if write:
                        conn.execution_options(sweepnb_write=True)
                    with conn.begin():
                        result = fn(conn)
                self._reached = True
                return result
            except sa.exc.SQLAlchemyError as exc:
                passing = is_passing(exc) and (self._reached or self.backend == "sqlite")
                now = time.monotonic()
                if passing and deadline is None:
                    deadline = now + retry_seconds()
                if not passing or now + delay > deadline:
                    raise StoreError(f"store {self.display_url}: {self._mask(exc)}") from None
                if delay >= 0.4:  # a short blip stays quiet; a real outage is said once
                    warnings.warn(
                        f"store {self.display_url}: {self._mask(exc)}; retrying for up to "
                        f"{retry_seconds():.0f} s (${RETRY_ENV})",
                        SweepnbWarning,
                        stacklevel=3,
                    )
                time.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, 5.0)

    def _write(self, fn: Callable[[Connection], Any]) -> Any:
        return self._transaction(fn, write=True)

    def _read(self, fn: Callable[[Connection], Any]) -> Any:
        return self._transaction(fn, write=False)
