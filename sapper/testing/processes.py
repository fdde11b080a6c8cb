"""``sapper serve`` and ``sapper worker`` as real processes on 127.0.0.1, for tests that kill them.

What they print goes to a file, not a pipe: a server logging every request never blocks on it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A ``sapper`` command running in a process of its own."""

    proc: subprocess.Popen[str]
    log: IO[str]
    url: str = ""  # a server's address

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        """What the process printed so far."""
        self.log.seek(0)
        return self.log.read()

    def kill(self) -> None:
        """Gone at once (SIGKILL), as when a machine loses power: no chance to tidy up."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 20) -> str:
        """Stop it as an operator would (SIGTERM), killing it if it hangs; what it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        out = self.output()
        self.log.close()
        return out


def _start(*args: str) -> Running:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "sapper", *args]
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by Running.stop
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    return Running(proc, log)


def serve_process(target: str, *options: str) -> Running:
    """``sapper serve target *options`` on a free port, once it answers."""
    port = free_port()
    running = _start("serve", target, "--port", str(port), *options)
    running.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{running.url}/ogc/conformance", timeout=5).status_code in (200, 401):
                return running
        except httpx.TransportError:
            pass
        if running.proc.poll() is not None or time.monotonic() > deadline:
            running.proc.kill()
            raise RuntimeError("sapper serve did not start:\n" + running.output())
        time.sleep(0.2)


def worker_process(target: str, *options: str) -> Running:
    """``sapper worker target *options``, once it says it works."""
    running = _start("worker", target, *options)
    deadline = time.monotonic() + 60
    while "making the jobs" not in running.output():
        if running.proc.poll() is not None or time.monotonic() > deadline:
            running.proc.kill()
            raise RuntimeError("sapper worker did not start:\n" + running.output())
        time.sleep(0.1)
    return running
