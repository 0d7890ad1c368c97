"""The Ray executor: each item's fetch..master is a task on a Ray cluster; the driver publishes.

    RayExecutor(build=runner.build_item, failed=runner.failed_result).run(config, works, started)

One `EngineHost` actor per worker process holds the engines, so each model loads once per
worker, not once per item; the actor asks for `[ray] num_cpus` (and `num_gpus`), and its engines
use CUDA exactly when Ray gave it a GPU. Items go to whichever actor is free. Artifacts reach
the output root directly when every node sees it (`[ray] shared_output = true`); otherwise the
actor builds in a scratch root, the episode folder (with what an earlier night cached) travels
both ways as bytes, and the driver puts it in place atomically (macaw/executors/folders.py).

A worker process that dies mid-item (killed, out of memory, its node lost) takes its actor
with it: a fresh actor replaces it, the item is tried once more (Ray places the new actor
where there is room, spread over the nodes), and a second death records the item failed.
The night goes on with the other items either way.

Ray is imported only here, only when this executor runs (`pip install 'macaw[ray]'`).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterator

from macaw.config import Config
from macaw.errors import EXIT_INTERNAL, EngineUnavailableError, MacawError, PublishError
from macaw.executors import engine_roles, folders, fresh_start

ATTEMPTS = 2  # a worker death is retried once, elsewhere


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineUnavailableError("--executor ray needs Ray, which is not installed",
                                     hint="pip install 'macaw[ray]' (or run the night with the local executor)") from None
    return ray


class EngineHost:
    """Lives in one Ray worker process: the engines, created once, and every item built there."""

    def __init__(self, config: Config, setup: Callable[[], None] | None = None, threads: dict[str, str] | None = None):
        import ray

        # Before any engine library loads: faster-whisper hears the same audio differently with
        # OMP_NUM_THREADS=1 (what Ray gives a 1-CPU actor) than with the driver's setting.
        os.environ.update(threads or {})
        if setup is not None:
            setup()
        from macaw.engines import create

        self.gpus = list(ray.get_gpu_ids())
        _hide_gpus_unless_given(self.gpus)
        self.config = config
        self.engines = {role: create(role, self.config.section(role)) for role in engine_roles()}
        self.where = {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(), "gpus": self.gpus}

    def build(self, build: Callable[..., Any], work: Any, shared: bool, packed: bytes | None,
              extras: dict[str, bytes] | None = None) -> tuple[Any, bytes | None, dict[str, Any]]:
        fresh_start(self.engines)
        if shared:
            return build(self.config, work, self.engines), None, self.where
        with tempfile.TemporaryDirectory(prefix="macaw-ray-") as scratch:
            config = dataclasses.replace(self.config, out=Path(scratch))
            for name, data in (extras or {}).items():
                (config.out / name).parent.mkdir(parents=True, exist_ok=True)
                (config.out / name).write_bytes(data)
            folder = config.episodes_dir / work.episode_id
            if packed is not None:
                folders.unpack(packed, folder)
            result = build(config, work, self.engines)
            return result, (folders.pack(folder) if folder.is_dir() else None), self.where

    def ping(self) -> dict[str, Any]:
        return self.where


def _hide_gpus_unless_given(gpus: list[Any]) -> None:
    """A worker Ray gave no GPU runs its engines on the CPU even where its node has one (the GPU
    belongs to the tasks that asked for it); with a GPU, `device = "auto"` finds the one Ray gave.
    Done through CUDA_VISIBLE_DEVICES, not the settings: the device is part of the stage keys'
    options, and the driver must find every stage the worker built fresh."""
    if not gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""


class RayExecutor:
    """Runs each Work's `build(config, work, engines)` on Ray; yields (work, result) as each ends.

    `failed(work, message, code)` makes the result recorded for an item whose workers died.
    `address`: overrides `[ray] address` ("" starts a Ray on this machine for the night).
    `setup`: called once in each worker process before its engines are made (tests register
    their scripted engines with it). `log`: one line per event a person should see.
    """

    def __init__(self, build: Callable[..., Any], failed: Callable[[Any, str, int], Any], *, address: str | None = None,
                 setup: Callable[[], None] | None = None, log: Callable[[str], None] = lambda m: None,
                 init_options: dict[str, Any] | None = None):
        self.build = build
        self.failed = failed
        self.address = address
        self.setup = setup
        self.log = log
        self.init_options = dict(init_options or {})
        self.engines: dict[str, Any] = {}  # the driver's own: fingerprints for the publish step
        self.where: dict[str, dict[str, Any]] = {}  # work key -> the worker that built it
        self.attempts: dict[str, int] = {}

    def run(self, config: Config, works: list[Any], started: Callable[[Any], None]) -> Iterator[tuple[Any, Any]]:
        if not works:
            return
        from macaw.engines import create

        # Engines first, in the driver: an unknown engine or a missing voice is one config error.
        for role in engine_roles():
            self.engines.setdefault(role, create(role, config.section(role)))
        ray = import_ray()
        owned = self._connect(ray, config)
        hosts: list[Any] = []
        try:
            yield from self._schedule(ray, config, works, started, hosts)
        finally:
            for host in hosts:
                try:
                    ray.kill(host)
                except Exception:
                    pass
            if owned:
                ray.shutdown()

    # ------------------------------------------------------------------ the cluster

    def _connect(self, ray: Any, config: Config) -> bool:
        """True when this night started the Ray it uses (and so shuts it down at the end)."""
        if ray.is_initialized():
            return False
        address = config.ray.address if self.address is None else self.address
        options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False, **self.init_options}
        try:
            if address:
                _probe(address)  # Ray itself retries an unreachable head for minutes, then exits the process
                ray.init(address=address, **options)
            else:
                ray.init(**options)
        except (ConnectionError, OSError, RuntimeError, ValueError, SystemExit) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineUnavailableError(f"cannot reach the Ray cluster at {address or 'this machine'}: {first}",
                                         hint="start it with `ray start --head`, or fix [ray] address / --ray-address") from None
        return True

    def _pool_size(self, ray: Any, config: Config, items: int) -> int:
        if config.ray.workers:
            return min(items, config.ray.workers)
        resources = ray.cluster_resources()
        fit = int(resources.get("CPU", 1) // config.ray.num_cpus)
        if config.ray.num_gpus:
            fit = min(fit, int(resources.get("GPU", 0) // config.ray.num_gpus))
        if fit < 1:
            raise EngineUnavailableError(
                f"the Ray cluster has {resources.get('CPU', 0):g} CPU(s) and {resources.get('GPU', 0):g} GPU(s): not enough for one item's "
                f"task ({config.ray.num_cpus:g} CPU, {config.ray.num_gpus:g} GPU)", hint="lower [ray] num_cpus / num_gpus, or add nodes")
        return max(1, min(items, fit))

    def _host(self, ray: Any, config: Config) -> Any:
        remote = ray.remote(EngineHost).options(
            num_cpus=config.ray.num_cpus, num_gpus=config.ray.num_gpus, max_restarts=0, max_task_retries=0,
            max_concurrency=1, scheduling_strategy="SPREAD")
        return remote.remote(config, self.setup, driver_threads())

    # ------------------------------------------------------------------ the items

    def _schedule(self, ray: Any, config: Config, works: list[Any], started: Callable[[Any], None],
                  hosts: list[Any]) -> Iterator[tuple[Any, Any]]:
        shared = config.ray.shared_output
        hosts.extend(self._host(ray, config) for _ in range(self._pool_size(ray, config, len(works))))
        idle = list(hosts)
        queue: deque[tuple[Any, int]] = deque((work, 1) for work in works)
        busy: dict[Any, tuple[Any, Any, int, float]] = {}
        while queue or busy:
            while queue and idle:
                host = idle.pop(0)
                work, attempt = queue.popleft()
                if attempt == 1:
                    started(work)
                self.attempts[work.key] = attempt
                packed = None
                folder = config.episodes_dir / work.episode_id
                if not shared and folder.is_dir():
                    packed = folders.pack(folder)  # what earlier nights cached travels with the item
                extras = None if shared else root_files(config)
                busy[host.build.remote(self.build, work, shared, packed, extras)] = (host, work, attempt, time.perf_counter())
            done, _ = ray.wait(list(busy), num_returns=1)
            ref = done[0]
            host, work, attempt, began = busy.pop(ref)
            try:
                result, packed, where = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                hosts.remove(host)
                replacement = self._host(ray, config)
                hosts.append(replacement)
                idle.append(replacement)
                reason = _first_line(exc)
                if attempt < ATTEMPTS:
                    self.log(f"{work.episode_id}: its Ray worker died after {time.perf_counter() - began:.0f} s ({reason}); trying once more elsewhere")
                    queue.appendleft((work, attempt + 1))
                    continue
                yield work, self.failed(work, f"its Ray worker died {ATTEMPTS} times while building it (last: {reason}); "
                                              "see the Ray logs (a worker killed for memory needs a bigger node or fewer workers)",
                                        EXIT_INTERNAL)
                continue
            except ray.exceptions.RayTaskError as exc:  # an exception escaped build(): a bug in one item
                idle.append(host)
                yield work, self.failed(work, f"internal error on a Ray worker: {_first_line(exc)} (a bug in Macaw; "
                                              "`macaw build` on this item with MACAW_DEBUG=1 shows the traceback)", EXIT_INTERNAL)
                continue
            idle.append(host)
            self.where[work.key] = where
            if packed is not None:
                try:
                    folders.install(packed, config.episodes_dir / work.episode_id, config.out)
                except (MacawError, OSError) as exc:
                    yield work, self.failed(work, f"the episode folder from the Ray worker could not be put in place: {exc}",
                                            getattr(exc, "exit_code", PublishError.exit_code))
                    continue
            yield work, result


def root_files(config: Config) -> dict[str, bytes]:
    """Files of the output root that the stages read, for a worker that cannot see it: the cover
    master tags the MP3 with, and a relative [show] image or [script] lexicon."""
    names = ["feeds/cover.png"]
    for value in (config.show.image, config.script.lexicon):
        if value and not Path(value).expanduser().is_absolute():
            names.append(value)
    found = {}
    for name in names:
        path = config.out / name
        if path.is_file() and path.resolve().is_relative_to(config.out.resolve()):
            found[name] = path.read_bytes()
    return found


def _probe(address: str, timeout: float = 5.0) -> None:
    """A HOST:PORT head must answer a TCP connection within `timeout` ("auto" is Ray's to find)."""
    import socket

    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(f"no answer from {host}:{port} ({exc.strerror or exc})") from None


def driver_threads() -> dict[str, str]:
    """The OpenMP thread count the engines get in this (the driver's) process: the workers use
    the same, so they hear and speak exactly as a local night does on the same kind of machine."""
    return {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS") or str(os.cpu_count() or 1)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]
