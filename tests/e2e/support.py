"""Helpers for end-to-end tests: free ports and a CLI subprocess read line by line."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from queue import Empty, Queue

__all__ = ["CliProcess", "free_port", "free_port_block"]

ROOT = Path(__file__).resolve().parents[2]


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_block(size: int) -> int:
    """A base port N such that N..N+size-1 are all free right now."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 60000)
        if all(_bindable(base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no block of {size} free ports found")


class CliProcess:
    """`engagement-gateway ...` as a subprocess; stdout lines are read in a thread."""

    def __init__(
        self, args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        exe = Path(sys.executable).with_name("engagement-gateway")
        self.proc = subprocess.Popen(
            [str(exe), *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._queue: Queue[str | None] = Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, needle: str, timeout_s: float) -> str:
        """Block until a stdout line contains `needle`; fail with the output so far."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except Empty:
                break
            if line is None:
                raise AssertionError("process exited early:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if needle in line:
                return line
        raise AssertionError(f"no line with {needle!r} in {timeout_s}s:\n" + "\n".join(self.lines))

    def kill(self) -> int:
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        self.proc.kill()
        self.proc.wait()
        return self.stop()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump_thread.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        while not self._queue.empty():  # keep what was printed after the last wait
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)
        return self.proc.returncode
