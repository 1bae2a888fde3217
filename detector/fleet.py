"""Scanning many series: one small result per series, failures recorded, never fatal.

The same per-series function (:func:`analyze_series`) runs serially in this
process, in a pool of worker processes, or on a Dask cluster; every executor
yields the results in source order, so a parallel scan gives exactly what a
serial one gives. Workers receive small picklable units of work (a range of
rows of a Parquet file that they read themselves, or a batch of series) and
send back :class:`ScanResult` s, which hold a few numbers and the series'
labels, never arrays.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

from .config import Config
from .errors import InputError
from .results import ScanResult
from .series import Series

EXECUTORS = ("serial", "processes", "dask")


def analyze_series(series: Series, *, limit: float | None = None,
                   config: Config | None = None, diagnosis=None) -> ScanResult:
    """Analyse one series, turning any failure into a recorded error.

    Parameters
    ----------
    series : Series or ComponentSeries
        A series, or a container's memory breakdown
        (:func:`detector.diagnosis.breakdown.judge_breakdown` judges it).
    limit : float, optional
        Memory limit in the unit of the values (bytes).
    config : Config, optional
    diagnosis : Diagnosis, optional
        Events and rules to add beside the verdict
        (:class:`detector.diagnosis.annotate.Diagnosis`).

    Returns
    -------
    ScanResult
    """
    from .analysis.pipeline import judge

    labels = dict(series.labels)
    config = config or Config()
    try:
        if hasattr(series, "components"):
            from .diagnosis.breakdown import judge_breakdown

            report = judge_breakdown(series, limit=limit, config=config)
        else:
            report = judge(series, limit=limit, config=config)
        fields = report.to_dict()
        if diagnosis is not None:
            fields = diagnosis.annotate(series, fields, limit=limit, config=config)
    except InputError as exc:
        return ScanResult(series.id, error=str(exc), labels=labels)
    except Exception as exc:  # noqa: BLE001 - one bad series must not stop a fleet
        return ScanResult(series.id, error=f"analysis failed: {type(exc).__name__}: {exc}",
                          labels=labels)
    return ScanResult(series.id, fields=fields, labels=labels)


def _limit_for(limits, series_id: str) -> float | None:
    limit = limits.get(series_id) if isinstance(limits, Mapping) else limits
    if limit is not None and not (isinstance(limit, (int, float)) and math.isfinite(limit)):
        return None
    return limit


def scan(series: Iterable[Series], *, limits: Mapping[str, float] | float | None = None,
         config: Config | None = None,
         on_result: Callable[[ScanResult], None] | None = None) -> Iterator[ScanResult]:
    """Analyse every series in turn (serially, in this process), yielding one result each.

    Parameters
    ----------
    series : iterable of Series
        Consumed lazily: one series in memory at a time if the iterable streams.
    limits : float or mapping of series id to float, optional
        Memory limit(s) in the unit of the values (bytes).
    config : Config, optional
    on_result : callable, optional
        Called with each result as it is produced (progress reporting).

    Yields
    ------
    ScanResult
    """
    return run(series, limits=limits, config=config, on_result=on_result)


@dataclass(frozen=True)
class _Skipped:
    """Placeholder a worker returns for a series already done (``--resume``)."""

    series: str


def scan_unit(unit, skip: frozenset, limits, config: Config, diagnosis=None) -> list:
    """Load one unit of work and analyse its series (runs in a worker).

    Parameters
    ----------
    unit : object with ``load() -> Iterator[Series]``
        A :class:`detector.sources.grouped.RowSpan` or
        :class:`detector.sources.files.SeriesBatch`.
    skip : frozenset of str
        Ids not to analyse (already done).
    limits : float or mapping, optional
        As in :func:`run`.
    config : Config
    diagnosis : Diagnosis, optional
        As in :func:`analyze_series`.

    Returns
    -------
    list of ScanResult or _Skipped
        One per series of the unit, in order.
    """
    out: list = []
    for s in unit.load():
        if isinstance(s, _Skipped):  # a batch of series sent from here: not shipped
            out.append(s)
        elif s.id in skip:
            out.append(_Skipped(s.id))
        else:
            out.append(analyze_series(s, limit=_limit_for(limits, s.id), config=config,
                                      diagnosis=diagnosis))
    return out


def warm_up(config: Config | None = None) -> None:
    """Compile (or load from numba's cache) the analysis kernels in this process.

    Called before any worker process gets a series (they start meanwhile, and
    compile nothing until then), so they load cached machine code instead of
    compiling concurrently into the same cache (numba#4807).
    Takes about 0.5 s with a warm cache, 10-20 s cold.
    """
    from .evaluate.synthetic import generate
    from .analysis.pipeline import judge

    config = config or Config()
    for i, pattern in enumerate(("gc_floor_growth", "restart_loop", "periodic_growth",
                                 "level_shift", "warmup", "stepwise_growth")):
        s = generate(pattern, seed=i, interval=60.0, duration=3 * 86400.0)
        judge(Series.from_arrays(s.values, s.timestamps, id=pattern), limit=s.limit,
              config=config)


def run(source: Iterable[Series], *, limits: Mapping[str, float] | float | None = None,
        config: Config | None = None, executor: str = "serial", workers: int = 1,
        scheduler: str | None = None, done: Mapping[str, ScanResult] | None = None,
        on_result: Callable[[ScanResult], None] | None = None,
        diagnosis=None) -> Iterator[ScanResult]:
    """Analyse every series of ``source`` on an executor, yielding results in source order.

    Parameters
    ----------
    source : iterable of Series
        Any iterable (consumed lazily). When it also has ``units(rows)`` (as
        :class:`detector.sources.files.FileSource`), parallel executors use
        those units, which workers load themselves.
    limits : float or mapping of series id to float, optional
        Memory limit(s) in the unit of the values (bytes).
    config : Config, optional
    executor : {"serial", "processes", "dask"}
        ``serial`` runs here; ``processes`` a pool of ``workers`` processes;
        ``dask`` a dask.distributed cluster (see ``scheduler``).
    workers : int
        Processes for ``processes``; for ``dask`` without ``scheduler``, the
        worker processes of the LocalCluster started (one thread each).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    done : mapping of series id to ScanResult, optional
        Results already known (``--resume``): those series are not analysed
        again; their recorded result is yielded in its place.
    on_result : callable, optional
        Called with each result as it is yielded.
    diagnosis : Diagnosis, optional
        Events and rules added beside each verdict (see :func:`analyze_series`).

    Yields
    ------
    ScanResult
        One per series, in source order. Memory held: at most ``2 * workers``
        units in flight plus the results not yet consumed.
    """
    config = config or Config()
    done = done or {}
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if executor == "processes" and workers == 1:
        executor = "serial"
    if executor == "serial":
        results = _run_serial(source, limits, config, done, diagnosis)
    else:
        results = _run_parallel(source, limits, config, done, executor, workers, scheduler,
                                diagnosis)
    for r in results:
        if on_result is not None:
            on_result(r)
        yield r


def _run_serial(source, limits, config, done, diagnosis=None) -> Iterator[ScanResult]:
    for s in source:
        if s.id in done:
            yield done[s.id]
        else:
            yield analyze_series(s, limit=_limit_for(limits, s.id), config=config,
                                 diagnosis=diagnosis)


def _units(source, done):
    """Picklable units of work from any source (series already done are not shipped)."""
    from .sources.files import SeriesBatch, batches

    if hasattr(source, "units"):
        yield from source.units()
        return
    for batch in batches(source):
        if done:  # a series already done is not shipped, only its place is kept
            batch = SeriesBatch(tuple(_Skipped(s.id) if s.id in done else s
                                      for s in batch.series))
        yield batch


def _run_parallel(source, limits, config, done, executor, workers, scheduler, diagnosis=None):
    skip = frozenset(done) if hasattr(source, "units") else frozenset()
    with _pool(executor, workers, scheduler) as (submit, window):
        # the workers start meanwhile (a spawned process imports for a second). A file's
        # first unit needs its plan (the key column read: 2 s for 10,000 series): made in a
        # thread while this one compiles or loads the kernels, which must be in numba's
        # cache before any worker analyses a series (warm_up). Other sources (a caller's
        # iterable, which may not like another thread) are read here, after the warm-up
        units = _units(source, done)
        first = _ahead(units) if hasattr(source, "units") else (lambda: units)
        warm_up(config)
        units = first()
        pending: deque = deque()
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                unit = next(units, None)
                if unit is None:
                    exhausted = True
                else:
                    pending.append((unit, submit(scan_unit, unit, skip, limits, config,
                                                 diagnosis)))
            if not pending:
                return
            unit, future = pending.popleft()
            shipped = future.result()
            yield from _merge(shipped, done)


def _ahead(units: Iterator) -> Callable[[], Iterator]:
    """Start taking the first item of ``units`` in a thread; the function returned waits
    for it and gives an iterator over every item (raising what taking it raised). A
    daemon thread: an interrupted scan does not wait for it."""
    import threading

    box: dict = {}

    def take():
        try:
            box["first"] = next(units, None)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller
            box["error"] = exc

    thread = threading.Thread(target=take, name="detector-plan", daemon=True)
    thread.start()

    def wait() -> Iterator:
        thread.join()
        if "error" in box:
            raise box["error"]
        first = box["first"]
        return units if first is None else itertools.chain([first], units)

    return wait


def _merge(shipped: list, done) -> Iterator[ScanResult]:
    """A unit's results in source order, recorded results put back in their place."""
    for r in shipped:
        yield done[r.series] if isinstance(r, _Skipped) else r


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit when the scan that started it is gone (killed, say).

    Otherwise a worker blocked on its task queue outlives a SIGKILLed scan.
    """
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="detector-parent-watch", daemon=True).start()


#: Thread-count variables of BLAS and OpenMP, set to 1 for worker processes (unless set).
SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _restore_env(saved: dict) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


class _pool:
    """Context manager giving ``(submit, window)`` for the processes or Dask executor."""

    def __init__(self, executor: str, workers: int, scheduler: str | None):
        self.executor, self.workers, self.scheduler = executor, workers, scheduler
        self._close: list = []

    def __enter__(self):
        if self.executor == "processes":
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # one thread of numerical libraries per worker, as Dask's nanny sets it: a BLAS
            # pool in each worker spins beside the pipeline and the workers fight over the
            # cores. A spawned process takes the environment as it is when it starts, and
            # the pool starts one per submit until it has them all: start them all now, then
            # give the parent (and whatever else it runs meanwhile) its environment back
            saved = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
            for k in SINGLE_THREAD_ENV:
                os.environ.setdefault(k, "1")
            try:
                pool = ProcessPoolExecutor(max_workers=self.workers,
                                           mp_context=mp.get_context("spawn"),
                                           initializer=_exit_with_parent,
                                           initargs=(os.getpid(),))
                self._close.append(lambda: pool.shutdown(wait=True, cancel_futures=True))
                for _ in range(self.workers):
                    pool.submit(os.getpid)
            finally:
                _restore_env(saved)
            return pool.submit, 2 * self.workers
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--executor dask needs dask.distributed: "
                             "pip install 'detector[dask]'", source="--executor") from None
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                from .errors import SourceUnreachable

                raise SourceUnreachable(f"Dask scheduler {self.scheduler}: {exc}") from None
        else:
            import dask

            # Dask's defaults halve the speed of this work (measured: tasks 75 s -> 43 s of
            # CPU for 2,000 series): the statistical profiler samples the task thread every
            # 10 ms, and MALLOC_TRIM_THRESHOLD_ turns off glibc's adaptive mmap threshold, so
            # every large array is fresh pages
            environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
            environ.pop("MALLOC_TRIM_THRESHOLD_", None)
            with dask.config.set({"distributed.worker.profile.enabled": False,
                                  "distributed.nanny.pre-spawn-environ": environ}):
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
            self._close.append(cluster.close)
            client = Client(cluster)
        self._close.insert(0, client.close)
        n = max(1, len(client.scheduler_info().get("workers", {})) or self.workers)

        def submit(fn, *args):
            return client.submit(fn, *args, pure=False)

        return submit, 2 * n

    def __exit__(self, *exc):
        try:
            for close in self._close:
                close()
        finally:
            self._close = []
        return False
