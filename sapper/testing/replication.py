"""A PostgreSQL primary and a hot-standby replica of it on 127.0.0.1, for tests and benchmarks.

The primary is a throwaway ``Cluster`` with ``wal_level = replica`` and a replication role
allowed from 127.0.0.1 only; the replica is made from it with ``pg_basebackup -R -c fast`` (which writes
``standby.signal`` and ``primary_conninfo``) into another temporary directory and started on
another port. Both go when stopped. Replay can be paused to make the replica lag for real.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from sapper.store.replica import format_lsn, replayed_lsn, written_lsn
from sapper.testing.postgis import Cluster

REPLICATION_ROLE = "replicator"


class ReplicatedCluster:
    def __init__(self) -> None:
        self.primary = Cluster()
        self.replica = Cluster()  # its directory and port; its data comes from pg_basebackup, not initdb

    def start(self) -> ReplicatedCluster:
        self.primary.start()
        self.primary.sql("postgres", "ALTER SYSTEM SET wal_level = 'replica'")  # the default, said explicitly
        self.primary.sql("postgres", f"CREATE ROLE {REPLICATION_ROLE} WITH REPLICATION LOGIN")
        hba = self.primary.data / "pg_hba.conf"
        line = f"host replication {REPLICATION_ROLE} 127.0.0.1/32 trust\n"
        hba.write_text(line + hba.read_text())  # first line wins
        self.primary.sql("postgres", "SELECT pg_reload_conf()")
        self._base_backup()
        self.start_replica()
        return self

    def _base_backup(self) -> None:
        if self.primary._as_postgres:
            shutil.chown(self.replica.root, "postgres", "postgres")
        source = ["-h", "127.0.0.1", "-p", str(self.primary.port), "-U", REPLICATION_ROLE]
        self.replica._run(
            "pg_basebackup", *source, "-D", str(self.replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"
        )

    def start_replica(self) -> None:
        options = (
            f"-p {self.replica.port} -k {self.replica.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c hot_standby=on -c max_connections=200"
        )
        log = str(self.replica.root / "log")
        self.replica._run("pg_ctl", "-D", str(self.replica.data), "-o", options, "-l", log, "-w", "start")
        self.replica._wait()

    def stop_replica(self) -> None:
        self.replica._run("pg_ctl", "-D", str(self.replica.data), "-m", "immediate", "-w", "stop")

    def new_database(self) -> tuple[str, str]:
        """A fresh PostGIS database on the primary, as (primary URL, replica URL), once the replica has it."""
        url = self.primary.new_database("replicated")
        name = url.rsplit("/", 1)[1]
        self.wait_for_replay()
        return url, self.replica.url(name)

    def pause_replay(self) -> None:
        self._on_replica("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self._on_replica("SELECT pg_wal_replay_resume()")

    def _on_replica(self, sql: str) -> None:
        with psycopg.connect(self.replica.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary had written when asked."""
        with psycopg.connect(self.primary.url("postgres"), autocommit=True) as conn:
            target = written_lsn(conn)
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.replica.url("postgres"), autocommit=True) as conn:
            while replayed_lsn(conn) < target:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the replica did not replay up to {format_lsn(target)} in {timeout:.0f} s")
                time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop_replica()
        shutil.rmtree(self.replica.root, ignore_errors=True)
        self.primary.stop()

    def __enter__(self) -> ReplicatedCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def replica_log(cluster: ReplicatedCluster) -> Path:
    """The replica server's log, for a failing test to show."""
    return cluster.replica.root / "log"
