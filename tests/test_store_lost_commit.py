"""A write whose COMMIT succeeded but whose reply was lost (issue 23.3): the store retries it, and
the retry must not write the history rows again.

The reply is really lost: the store talks to PostgreSQL through a TCP proxy that forwards the
client's COMMIT, lets the server commit and answer, then drops the answer and cuts the client's
connection (what a network failure at that moment does).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest

import sweepnb
from sweepnb.store import Store

pytestmark = pytest.mark.postgres


class CommitReplyCutter:
    """A TCP proxy to ``host:port``. Once :meth:`arm` is called, the next connection that sends
    ``COMMIT`` has it delivered, and the server's reply swallowed and the connection closed;
    ``cut`` is set when that happened."""

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = threading.Event()
        self._armed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self) -> None:
        self._armed.set()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            dropping = threading.Event()
            threading.Thread(target=self._up, args=(client, server, dropping), daemon=True).start()
            threading.Thread(
                target=self._down, args=(server, client, dropping), daemon=True
            ).start()

    def _up(self, client: socket.socket, server: socket.socket, dropping: threading.Event):
        """Client to server; a COMMIT while armed marks this connection's next reply lost."""
        while data := _recv(client):
            if self._armed.is_set() and b"COMMIT" in data.upper():
                self._armed.clear()
                dropping.set()
            try:
                server.sendall(data)
            except OSError:
                return

    def _down(self, server: socket.socket, client: socket.socket, dropping: threading.Event):
        """Server to client, until a reply to be lost arrives: then both ends are closed."""
        while data := _recv(server):
            if dropping.is_set():
                for end in (client, server):
                    with contextlib.suppress(OSError):  # shutdown wakes the other pump's recv
                        end.shutdown(socket.SHUT_RDWR)
                    end.close()
                self.cut.set()
                return
            try:
                client.sendall(data)
            except OSError:
                return


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


@pytest.fixture
def cutter_url(fresh_pg_url):
    """(URL through the proxy, the proxy, the direct URL) of an empty PostgreSQL store."""
    parts = urlsplit(fresh_pg_url)
    proxy = CommitReplyCutter(parts.hostname, parts.port)
    netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    yield urlunsplit(parts._replace(netloc=netloc)), proxy, fresh_pg_url
    proxy.close()


def test_a_write_whose_commit_reply_was_lost_is_retried_without_duplicate_rows(cutter_url):
    url, proxy, direct = cutter_url
    store = Store(url)
    run_id = store.add_run(None, {})
    store.log(run_id, [{"loss": 1.0, "_step": 0}])
    proxy.arm()
    store.log(run_id, [{"loss": 0.5, "_step": 1}, {"loss": 0.25, "_step": 2}], {"loss": 0.25})
    assert proxy.cut.is_set(), "the proxy never cut a COMMIT's reply"
    record = Store(direct).get_run(run_id)
    assert [(row["_step"], row["loss"]) for row in record["history"]] == [
        (0, 1.0),
        (1, 0.5),
        (2, 0.25),
    ]
    assert record["summary"]["loss"] == 0.25


def test_rows_without_a_step_keep_the_first_attempts_steps_on_retry(cutter_url):
    url, proxy, direct = cutter_url
    store = Store(url)
    run_id = store.add_run(None, {}, history=[{"loss": 1.0}])
    proxy.arm()
    store.log(run_id, [{"loss": 0.5}, {"loss": 0.25}])  # the store numbers them 1 and 2
    assert proxy.cut.is_set()
    history = Store(direct).get_run(run_id)["history"]
    assert [(row["_step"], row["loss"]) for row in history] == [(0, 1.0), (1, 0.5), (2, 0.25)]


def test_a_runs_flush_whose_reply_was_lost_keeps_each_logged_row_once(cutter_url):
    url, proxy, direct = cutter_url
    with sweepnb.init(store=url) as run:
        sweepnb.log({"acc": 0.1})
        proxy.arm()
        run.flush()  # nothing new: the summary write is the one cut
        sweepnb.log({"acc": 0.2})
        proxy.arm()
        run.flush()
        sweepnb.log({"acc": 0.3})
    assert proxy.cut.is_set()
    history = Store(direct).get_run(run.id)["history"]
    assert [row["acc"] for row in history] == [0.1, 0.2, 0.3]
