"""Farming the runs out with Ray: one task per run, on the cluster at `RAY_ADDRESS` (or
`--address`), or on a local head started here and stopped afterwards.

The local head runs `ray start --head --block` in its own session (process group): stopping it
is a SIGTERM to that one process, which drains and stops the Ray processes it started; only if
it outlives its grace period is its own process group killed. Token authentication is on
(`RAY_AUTH_MODE=token`, as Ray 2.60 wants), with a fresh random token given to the head and the
driver through the environment, so nothing is written to `~/.ray`. The head and its workers
listen on the loopback address only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import runner


def ray_executable() -> str:
    beside = Path(sys.executable).parent / "ray"
    if beside.exists():
        return str(beside)
    found = shutil.which("ray")
    if not found:
        raise RuntimeError("the `ray` command is not installed (pip install ray; scripts/setup.sh does)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalHead:
    """A one-node Ray cluster on 127.0.0.1, for the length of a `with` block."""

    def __init__(self, num_cpus: int | None = None, startup_timeout_s: float = 120.0):
        self.num_cpus = num_cpus or os.cpu_count() or 1
        self.startup_timeout_s = startup_timeout_s
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Short: Ray puts Unix sockets under it (a path of at most ~107 bytes).
        self.temp_dir = tempfile.mkdtemp(prefix="vsw-", dir="/tmp")
        self.env = {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            # Ray turns 127.0.0.1 into the machine's routable address unless told that this is
            # a single machine; keep every socket on the loopback.
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(self.temp_dir) / "head.log"

    def __enter__(self) -> LocalHead:
        cmd = [
            ray_executable(), "start", "--head", "--block",
            "--node-ip-address=127.0.0.1", f"--port={self.port}",
            f"--num-cpus={self.num_cpus}", "--include-dashboard=false",
            "--disable-usage-stats", f"--temp-dir={self.temp_dir}",
        ]  # fmt: skip
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            cmd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if "Ray runtime started" in text:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"the local Ray head did not start:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                pass
        if proc is not None:
            # Whatever of the head's own process group is left (it ran in a new session, so
            # the group holds only the processes it started).
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                time.sleep(1.0)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def run_tasks(
    tasks: list[dict[str, Any]],
    binary: str,
    out_dir: Path,
    address: str | None = None,
    num_cpus: int | None = None,
    keep_runs: bool = False,
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Runs every task as a Ray task (one CPU each), writes each result under
    `out_dir/results/` as it arrives, and returns timing: the local head's start-up, the runs'
    wall time. With no `address` and no `RAY_ADDRESS`, a local head is started and stopped."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    head: LocalHead | None = None
    timing: dict[str, Any] = {"address": address or "local head"}
    t0 = time.monotonic()
    saved_env = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    try:
        if address is None:
            head = LocalHead(num_cpus=num_cpus).__enter__()
            os.environ.update(head.env)
            address = head.address
        timing["startup_s"] = round(time.monotonic() - t0, 2)
        # Only now: Ray reads RAY_AUTH_MODE and RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER when it is
        # imported, and a driver that disagrees with the head about either never connects.
        if "ray" in sys.modules and head is not None:
            raise RuntimeError("ray was imported before the local head's environment was set")
        import ray
        import ray.cloudpickle

        ray.init(address=address, logging_level="WARNING", log_to_driver=False, configure_logging=True)
        # The workers need not have this package installed: the task's code travels by value.
        ray.cloudpickle.register_pickle_by_value(runner)
        remote = ray.remote(num_cpus=1, max_retries=1)(runner.run_task)
        t1 = time.monotonic()
        pending = {
            remote.remote(t, binary, runner.keep_dir_for(out_dir, t) if keep_runs else None): t for t in tasks
        }
        done = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                pending.pop(ref)
                result = ray.get(ref)
                runner.write_result(out_dir, result)
                done += 1
                if progress:
                    progress(done, len(tasks), result)
        timing["runs_s"] = round(time.monotonic() - t1, 2)
        timing["cluster_cpus"] = ray.cluster_resources().get("CPU")
    finally:
        try:
            if "ray" in sys.modules:
                sys.modules["ray"].shutdown()
        finally:
            if head is not None:
                head.stop()
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    timing["total_s"] = round(time.monotonic() - t0, 2)
    return timing
