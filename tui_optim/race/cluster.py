"""Units of work on a Dask cluster: an existing one (``--scheduler tcp://HOST:PORT``) or a
local one started for the run (``--workers N``).

A unit of work is a picklable function applied to one item (for a sweep: a block of runs
that step in lockstep); :meth:`DaskPool.map_unordered` yields ``(index, result)`` as tasks
finish, so progress bars and partial results work as they do with local processes. Dask
reschedules the tasks of a worker that dies; a scheduler that goes away ends the run with
:class:`ClusterError` after the results that already arrived.

Dask is an optional extra (``pip install 'tui-optim[dask]'``) imported only here, and only
when a pool is opened.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import tui_optim

#: How to get Dask, for the one-line error when it is missing.
INSTALL_HINT = "pip install 'tui-optim[dask]'"
#: Seconds to wait for a scheduler (and for a local cluster's workers) before giving up.
CONNECT_TIMEOUT = 10.0
#: Longest time-out a run may ask for (an hour).
MAX_TIMEOUT = 3600.0
#: Seconds between looks at the client while no task has finished.
POLL_SECONDS = 0.05
#: Largest local cluster a run may ask for.
MAX_LOCAL_WORKERS = 256

_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})$")


class ClusterError(RuntimeError):
    """The cluster cannot be used or went away: a one-line message for the user."""


@dataclass(frozen=True)
class ClusterRequest:
    """Where units of work run: ``scheduler`` (an address) or ``workers`` local processes."""

    scheduler: str | None = None
    workers: int | None = None
    dashboard: bool = False
    timeout: float = CONNECT_TIMEOUT

    def __post_init__(self) -> None:
        if self.scheduler is not None and self.workers is not None:
            raise ValueError("--scheduler and --workers exclude each other: give one")
        if self.scheduler is not None:
            check_address(self.scheduler)
        if not (math.isfinite(self.timeout) and 0 < self.timeout <= MAX_TIMEOUT):
            raise ValueError(
                f"--connect-timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}], "
                f"got {self.timeout:g}"
            )
        if self.workers is not None and not 1 <= self.workers <= MAX_LOCAL_WORKERS:
            raise ValueError(
                f"--workers must be an integer in [1, {MAX_LOCAL_WORKERS}], got {self.workers}"
            )

    @property
    def wanted(self) -> bool:
        """Whether the run goes to Dask at all (else: the local processes)."""
        return self.scheduler is not None or self.workers is not None


def check_address(address: str) -> str:
    """``address`` if it is ``tcp://HOST:PORT`` (or tls://) with a port in 1..65535."""
    match = _ADDRESS.match(address)
    if match is None or not 1 <= int(match.group(3)) <= 65535:
        raise ValueError(
            f"--scheduler must be a Dask scheduler address tcp://HOST:PORT "
            f"(port 1-65535), got {address!r}"
        )
    return address


def dask_available() -> bool:
    return importlib.util.find_spec("distributed") is not None


def _version_probe() -> Callable[[], str | None]:
    """A function that reports the worker's tui-optim version (None when it has none).

    Defined inside a function so it travels by value: a worker without tui-optim could
    not unpickle a reference to this module."""

    def probe() -> str | None:
        try:
            import tui_optim as installed
        except ImportError:
            return None
        return str(getattr(installed, "__version__", "unknown"))

    return probe


class DaskPool:
    """A Dask client, on a cluster of its own or on an existing one; use it as a context."""

    def __init__(self, request: ClusterRequest):
        if not request.wanted:
            raise ValueError("a DaskPool needs --scheduler or --workers")
        if not dask_available():
            raise ClusterError(f"--scheduler and --workers need Dask: {INSTALL_HINT}")
        from distributed import Client, LocalCluster

        self.request = request
        self._cluster: Any = None
        self.client: Any = None
        quiet = logging.CRITICAL
        # Dask logs what goes wrong with tracebacks on stderr (a scheduler gone, a worker
        # lost); the run says it in one line, so Dask's own loggers stay quiet while open.
        self._log_levels = _quiet_loggers("distributed", quiet)
        try:
            if request.scheduler is not None:
                self.address = request.scheduler
                self.client = Client(
                    request.scheduler, timeout=request.timeout, set_as_default=False
                )
            else:
                with warnings.catch_warnings():
                    # "Port 8787 is already in use": the scheduler's HTTP server moves to
                    # another port, which is all a run without --dashboard needs.
                    warnings.simplefilter("ignore", UserWarning)
                    self._cluster = LocalCluster(
                        n_workers=request.workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=":8787" if request.dashboard else None,
                        silence_logs=quiet,
                    )
                self.address = self._cluster.scheduler_address
                self.client = Client(self._cluster, timeout=request.timeout, set_as_default=False)
        except (OSError, TimeoutError) as error:
            self.close()
            where = request.scheduler or "a local cluster"
            raise ClusterError(
                f"could not reach the Dask scheduler at {where} within "
                f"{request.timeout:g} s ({type(error).__name__})"
            ) from None
        except Exception as error:  # Dask's own start-up failures (a nanny that died ...)
            self.close()
            raise ClusterError(
                f"could not start the Dask cluster ({type(error).__name__}: {error})"
            ) from None
        self._check_workers()

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_count(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    @property
    def thread_count(self) -> int:
        """Tasks the cluster runs at once: its workers' threads."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return sum(int(worker.get("nthreads", 1)) for worker in workers.values()) or 1

    def _check_workers(self) -> None:
        """Every worker must run this tui-optim version; wait for one worker to exist."""
        try:
            self.client.wait_for_workers(1, timeout=self.request.timeout)
        except TimeoutError:
            self.close()
            raise ClusterError(
                f"the Dask scheduler at {self.address} has no workers "
                f"(none joined within {self.request.timeout:g} s)"
            ) from None
        versions = self.client.run(_version_probe(), on_error="return")
        ours = tui_optim.__version__
        for worker, version in sorted(versions.items()):
            if version != ours:
                self.close()
                theirs = "no tui-optim" if version is None else f"tui-optim {version}"
                if isinstance(version, BaseException):
                    theirs = f"a failing probe ({type(version).__name__})"
                raise ClusterError(
                    f"Dask worker {worker} has {theirs}; this run needs tui-optim {ours} "
                    f"on every worker"
                )

    def map_unordered(
        self,
        function: Callable[[Any], Any],
        items: Iterable[Any],
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """``(index, function(item))`` for every item, in the order tasks finish; ends
        early (the tasks left cancelled) once ``stop()`` is true.

        Polls rather than blocks: when the scheduler dies, Dask's futures stay pending
        forever, so the client's own state is what tells that the run cannot finish."""
        from distributed import as_completed

        futures = self.client.map(function, list(items), pure=False)
        index_of = {future.key: index for index, future in enumerate(futures)}
        finished = as_completed(futures, loop=self.client.loop)
        delivered = 0
        try:
            while not finished.is_empty():
                if stop is not None and stop():
                    with contextlib.suppress(Exception):
                        self.client.cancel(futures)
                    return
                if not finished.has_ready():
                    if self.client.status not in ("running", "connecting"):
                        raise ClusterError(f"lost the Dask scheduler at {self.address}")
                    time.sleep(POLL_SECONDS)
                    continue
                for future in finished.next_batch(block=False):
                    if future.status == "cancelled":
                        raise ClusterError(f"lost the Dask scheduler at {self.address}")
                    # A task that raised re-raises here, with its own exception.
                    result = future.result()
                    delivered += 1
                    yield index_of[future.key], result
            if delivered < len(futures):
                # Dask drops the futures it cancelled when the client lost its scheduler.
                raise ClusterError(f"lost the Dask scheduler at {self.address}")
        except GeneratorExit:
            with contextlib.suppress(Exception):
                self.client.cancel(futures)
            raise
        except ClusterError:
            raise
        except Exception as error:
            if not _lost_scheduler(error):
                raise
            raise ClusterError(
                f"lost the Dask scheduler at {self.address} ({type(error).__name__})"
            ) from None

    def close(self) -> None:
        """Disconnect (and stop the local cluster, if this pool started one)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close(timeout=2)
            self.client = None
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close(timeout=5)
            self._cluster = None
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._log_levels = {}


def _quiet_loggers(prefix: str, level: int) -> dict[str, int]:
    """Set ``prefix``'s logger and its children (Dask configures some of them one by one)
    to ``level``; their levels before."""
    names = [prefix] + [
        name for name in logging.root.manager.loggerDict if name.startswith(prefix + ".")
    ]
    before = {}
    for name in names:
        logger = logging.getLogger(name)
        before[name] = logger.level
        logger.setLevel(level)
    return before


def _lost_scheduler(error: BaseException) -> bool:
    """Errors by which Dask says the scheduler went away (the futures were cancelled)."""
    name = type(error).__name__
    return name in ("CancelledError", "FutureCancelledError", "CommClosedError") or isinstance(
        error, OSError | TimeoutError
    )
