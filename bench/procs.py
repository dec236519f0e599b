"""Subprocesses for the graph benchmarks: the sandboxes, gateways, uvicorn workers.

Every process binds 127.0.0.1 on a free port, is waited for on a line of its
output (with a timeout), and is stopped with SIGINT (then SIGKILL) by its own
pid. `/proc` gives its CPU time and peak resident memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from queue import Empty, Queue

__all__ = [
    "SYSTEMS",
    "Proc",
    "cpu_seconds",
    "gateway_env",
    "machine_busy_seconds",
    "memory_kib",
    "sandbox_urls",
    "start_gateway",
    "start_sandboxes",
    "start_uvicorn",
    "worker_pids",
]

SYSTEMS = ("salesforce", "kantata", "harvest", "netsuite")
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AS_OF = "2026-10-31"  # the demo firm's last day (tests.graph_support.AS_OF)


class Proc:
    """A subprocess whose merged stdout/stderr is read line by line in a thread."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._queue: Queue[str | None] = Queue()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, needle: str, timeout_s: float, times: int = 1) -> None:
        """Block until `times` output lines contain `needle`; fail with the output so far."""
        seen = 0
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except Empty:
                break
            if line is None:
                raise RuntimeError(f"{self.argv[:3]} exited early:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if needle in line:
                seen += 1
                if seen == times:
                    return
        raise RuntimeError(f"no {needle!r} x{times} in {timeout_s}s:\n" + "\n".join(self.lines))

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its live descendants (uvicorn workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(c) for c in _children(pid))


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, every process), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The uvicorn worker processes (multiprocessing spawns) under a `--workers N` parent."""
    found = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.append(child)
    return found


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of `pid`, in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def sandbox_urls(base: int) -> dict[str, str]:
    return {name: f"http://127.0.0.1:{base + i}" for i, name in enumerate(SYSTEMS)}


def gateway_env(urls: Mapping[str, str], **settings: str) -> dict[str, str]:
    """This environment without any EG_* setting, plus the sandboxes' URLs and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EG_")}
    env.update({f"EG_{name.upper()}_URL": url for name, url in urls.items()})
    env["EG_AS_OF"] = AS_OF
    env.update({f"EG_{k.upper()}": v for k, v in settings.items()})
    return env


def start_sandboxes(base: int, latency_ms: float, seed: int = 42) -> Proc:
    proc = Proc(
        [
            str(BIN / "python"),
            "-m",
            "bench.sandboxes",
            "--port",
            str(base),
            "--latency-ms",
            str(latency_ms),
            "--seed",
            str(seed),
        ]
    )
    proc.wait_for("ready", timeout_s=60)
    return proc


def start_gateway(port: int, env: Mapping[str, str]) -> Proc:
    """`engagement-gateway serve` (uvicorn, one process)."""
    argv = [str(BIN / "engagement-gateway"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = Proc(argv, env)
    proc.wait_for("ready", timeout_s=60)
    return proc


def start_uvicorn(port: int, workers: int, env: Mapping[str, str]) -> Proc:
    """`uvicorn --factory gateway.app:create_app --workers N` (Settings from EG_* env)."""
    argv = [
        str(BIN / "uvicorn"),
        "--factory",
        "gateway.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "info",
    ]
    proc = Proc(argv, env)
    proc.wait_for("Application startup complete", timeout_s=90, times=workers)
    return proc
