"""State in one SQLite file, shared by every proxy process on the host.

Every call opens its own connection in a worker thread. The store is used only on credential
transitions and token refreshes, so the open costs nothing that matters, and a connection is
never shared between threads nor inherited across a fork.
"""

import contextlib
import itertools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from gemini_proxy.state.base import Record

# How long a writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    expires_at REAL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""
_COLUMNS = "namespace, key, data, version, expires_at"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"

T = TypeVar("T")


class SqliteStore:
    def __init__(self, path: str) -> None:
        if path == ":memory:" or not path:
            # Each call opens a fresh connection, so an in-memory database would be empty
            # every time; the memory backend is the right tool for that.
            raise ValueError("SqliteStore needs a file path; use the memory backend instead")
        self._path = path
        self._generation_path = path + ".gen"
        self._writes = itertools.count()
        self._ready = False

    def change_marker(self) -> object:
        """What the generation file says: it changes after every write by any process.

        Reading a few bytes is not a database round trip, and it lets a reader's cache notice
        another process's write at once instead of after its cache period.
        """
        try:
            with open(self._generation_path, "rb") as file:
                return file.read()
        except OSError:
            return None

    def _bump_generation(self) -> None:
        token = f"{os.getpid()}:{time.time_ns()}:{next(self._writes)}".encode()
        temporary = f"{self._generation_path}.{os.getpid()}.tmp"
        with contextlib.suppress(OSError):  # a missed bump only delays others by their cache
            with open(temporary, "wb") as file:
                file.write(token)
            os.replace(temporary, self._generation_path)

    async def get(self, namespace: str, key: str) -> Record | None:
        return await self._call(partial(_get, namespace=namespace, key=key))

    async def query(self, namespace: str) -> list[Record]:
        return await self._call(partial(_query, namespace=namespace))

    async def put(
        self,
        namespace: str,
        key: str,
        data: dict[str, Any],
        expected_version: int,
        expires_at: float | None = None,
    ) -> Record | None:
        # Encoded here, not in the thread, so a value JSON cannot hold fails in the caller.
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        write = partial(
            _put,
            namespace=namespace,
            key=key,
            encoded=encoded,
            expected_version=expected_version,
            expires_at=expires_at,
        )
        record = await self._call(write)
        if record is not None:
            self._bump_generation()
        return record

    async def delete(self, namespace: str, key: str, expected_version: int) -> bool:
        deleted = await self._call(
            partial(_delete, namespace=namespace, key=key, expected_version=expected_version)
        )
        if deleted:
            self._bump_generation()
        return deleted

    async def close(self) -> None:
        return None

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self._with_connection, fn)

    def _with_connection(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if not self._ready:
            self._setup()
        # isolation_level=None: transactions are ours to open, so writes can say IMMEDIATE.
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        with closing(connection):
            return fn(connection)

    def _setup(self) -> None:
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        _owner_only(self._path)
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        with closing(connection):
            # WAL lets readers proceed while another process writes. The mode is stored in
            # the file, so this only does work the first time.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
        self._ready = True


def _owner_only(path: str) -> None:
    """Create the file readable by its owner only (it holds OAuth state), or tighten it.

    SQLite gives its -wal and -shm files the database file's permissions, so they follow.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    with contextlib.suppress(OSError):  # not ours to change (another user's file): leave it
        os.chmod(path, 0o600)


@contextmanager
def _write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    # writes can fail with SQLITE_BUSY at the upgrade without waiting for the busy timeout.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _purge_expired(connection: sqlite3.Connection, now: float) -> None:
    # Expired rows are already invisible; removing them inside the write transaction keeps the
    # file small and lets the writes below treat "row exists" as "record is live".
    connection.execute("DELETE FROM records WHERE expires_at <= ?", (now,))


def _record(row: tuple[str, str, str, int, float | None]) -> Record:
    namespace, key, data, version, expires_at = row
    return Record(namespace, key, json.loads(data), version, expires_at)


def _get(connection: sqlite3.Connection, namespace: str, key: str) -> Record | None:
    row = connection.execute(
        f"SELECT {_COLUMNS} FROM records WHERE namespace = ? AND key = ? AND {_LIVE}",  # noqa: S608
        (namespace, key, time.time()),
    ).fetchone()
    return None if row is None else _record(row)


def _query(connection: sqlite3.Connection, namespace: str) -> list[Record]:
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM records WHERE namespace = ? AND {_LIVE} ORDER BY key",  # noqa: S608
        (namespace, time.time()),
    ).fetchall()
    return [_record(row) for row in rows]


def _put(
    connection: sqlite3.Connection,
    namespace: str,
    key: str,
    encoded: str,
    expected_version: int,
    expires_at: float | None,
) -> Record | None:
    with _write_transaction(connection):
        _purge_expired(connection, time.time())
        if expected_version == 0:
            cursor = connection.execute(
                "INSERT INTO records (namespace, key, data, version, expires_at)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT DO NOTHING",
                (namespace, key, encoded, expires_at),
            )
        else:
            cursor = connection.execute(
                "UPDATE records SET data = ?, version = version + 1, expires_at = ?"
                " WHERE namespace = ? AND key = ? AND version = ?",
                (encoded, expires_at, namespace, key, expected_version),
            )
        if cursor.rowcount != 1:
            return None
    return Record(namespace, key, json.loads(encoded), expected_version + 1, expires_at)


def _delete(
    connection: sqlite3.Connection, namespace: str, key: str, expected_version: int
) -> bool:
    with _write_transaction(connection):
        _purge_expired(connection, time.time())
        cursor = connection.execute(
            "DELETE FROM records WHERE namespace = ? AND key = ? AND version = ?",
            (namespace, key, expected_version),
        )
        return cursor.rowcount == 1
