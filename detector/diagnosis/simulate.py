"""A seeded simulator of Kubernetes containers: memory breakdown and the events around it.

Tests (against a real Prometheus) and the incident dataset of ``docs/incident.md``
need containers whose memory is reported the way cAdvisor reports it, with the
kube-state-metrics series that tell of restarts, OOM kills and deploys. A
:class:`Container` is built from a few explicit parameters and a seed:

* ``rss`` (anonymous memory) holds at ``base`` plus noise, and grows at
  ``rss_growth`` bytes/s from ``onset`` (a leak);
* ``cache`` (page cache) holds at ``cache_base`` and grows at ``cache_growth``
  bytes/s from ``onset`` (a file cache filling); ``active_share`` of it is
  active (counted in the working set), ``mapped_share`` is memory-mapped;
* ``swap`` grows at ``swap_growth`` bytes/s from ``onset`` (pressure);
* ``working_set = rss + active_share * cache``, ``usage = rss + cache``;
* a container whose working set reaches ``limit`` is OOM-killed: its
  restart and OOM counters go up by one, its last termination reason becomes
  ``OOMKilled``, and it restarts at ``base`` (growth resumes from there);
* ``fixed_at``: from then on (a deploy of ``fix_image``) nothing grows any
  more; the container restarts at ``base`` and warms up by ``warmup`` bytes
  over 20 minutes.
* ``deploys``: ``(time, image)``: the image of ``kube_pod_container_info``
  changes at ``time`` (the first image runs from the start);
* ``job``: a daily job that takes memory for a while (a nightly batch).

Values are bytes, times unix seconds; the same seed gives the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIB = float(2 ** 20)


@dataclass(frozen=True)
class Container:
    """One simulated container (see the module docstring for the model).

    Attributes
    ----------
    labels : dict
        ``namespace``, ``pod``, ``container`` (the cAdvisor / kube-state-metrics labels).
    t : numpy.ndarray
        Sample times (unix seconds).
    components : dict
        ``working_set``, ``usage``, ``rss``, ``cache``, ``swap``, ``mapped_file``
        (bytes, aligned with ``t``).
    limit : float
        The memory limit (bytes).
    restarts : numpy.ndarray
        ``kube_pod_container_status_restarts_total`` at ``t``.
    oom_events : numpy.ndarray
        ``container_oom_events_total`` at ``t``.
    oom_killed : numpy.ndarray of bool
        Whether ``kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}``
        is 1 at ``t``.
    images : list of (float, float, str)
        ``(from, to, image)``: when ``kube_pod_container_info`` carries each image.
    kills : list of float
        Times of the OOM kills.
    """

    labels: dict
    t: np.ndarray
    components: dict
    limit: float
    restarts: np.ndarray
    oom_events: np.ndarray
    oom_killed: np.ndarray
    images: list = field(default_factory=list)
    kills: list = field(default_factory=list)


def container(labels: dict, *, seed: int, start: float, duration: float, interval: float = 60.0,
              base: float = 400 * MIB, limit: float = 2048 * MIB, onset: float | None = None,
              rss_growth: float = 0.0, cache_base: float = 150 * MIB,
              cache_growth: float = 0.0, swap_growth: float = 0.0, active_share: float = 0.3,
              mapped_share: float = 0.2, noise: float = 0.004,
              deploys: tuple = (), image: str = "app:1.0.0", fixed_at: float | None = None,
              fix_image: str | None = None, warmup: float = 100 * MIB,
              job: tuple[float, float, float] | None = None) -> Container:
    """Simulate one container.

    Parameters
    ----------
    labels : dict
        Its labels (``namespace``, ``pod``, ``container``).
    seed : int
        Seed of the noise.
    start, duration, interval : float
        First sample (unix seconds), length and spacing (seconds).
    base, limit : float
        RSS at rest and the memory limit (bytes).
    onset : float, optional
        When the growth starts (unix seconds); default ``start``.
    rss_growth, cache_growth, swap_growth : float
        Growth rates from ``onset`` (bytes/s).
    cache_base : float
        Page cache at rest (bytes).
    active_share, mapped_share : float
        Shares of the cache that are active (in the working set) and mapped.
    noise : float
        Noise sigma as a share of ``base``.
    deploys : tuple of (float, str)
        Image changes: ``(time, image)``.
    image : str
        The image running from the start.
    fixed_at : float, optional
        When the fix is deployed (growth stops, restart at ``base``).
    fix_image : str, optional
        The image of the fix (default: ``image`` with ``-fix``).
    warmup : float
        What the fixed container gains while it warms up (bytes, over 20 min).
    job : (float, float, float), optional
        A daily job: from and to (seconds after midnight UTC) and the RSS it
        takes meanwhile (bytes).

    Returns
    -------
    Container
    """
    rng = np.random.default_rng(seed)
    t = start + interval * np.arange(int(duration // interval) + 1, dtype=np.float64)
    onset = start if onset is None else onset
    n = t.size
    rss = np.empty(n)
    restarts = np.zeros(n)
    ooms = np.zeros(n)
    killed = np.zeros(n, dtype=bool)
    kills: list[float] = []
    grow_from = onset  # growth restarts after each OOM kill
    count = 0
    for i, ti in enumerate(t):
        if fixed_at is not None and ti >= fixed_at:
            age = ti - fixed_at
            rss[i] = base + warmup * (1 - np.exp(-age / 400.0))
        else:
            rss[i] = base + rss_growth * max(0.0, ti - grow_from)
        cache_i = cache_base + cache_growth * max(0.0, min(ti, fixed_at or np.inf) - onset)
        if rss[i] + active_share * cache_i >= limit and (fixed_at is None or ti < fixed_at):
            count += 1
            kills.append(float(ti))
            grow_from = ti
            rss[i] = base
            killed[i:] = True
        restarts[i] = count
        ooms[i] = count
    noise_sd = noise * base
    rss = rss + rng.normal(0, noise_sd, n)
    if job is not None:
        clock = t % 86400.0
        rss = rss + np.where((clock >= job[0]) & (clock < job[1]), job[2], 0.0)
    cache = cache_base + cache_growth * np.clip(np.minimum(t, fixed_at or np.inf) - onset, 0,
                                                None)
    if fixed_at is not None:
        cache = np.where(t >= fixed_at, cache_base, cache)
    cache = cache + rng.normal(0, noise_sd / 2, n)
    swap = swap_growth * np.clip(t - onset, 0, None) + np.abs(rng.normal(0, noise_sd / 10, n))
    if fixed_at is not None:
        swap = np.where(t >= fixed_at, 0.0, swap)
    working_set = rss + active_share * cache
    comps = {"working_set": working_set, "usage": rss + cache, "rss": rss, "cache": cache,
             "swap": swap, "mapped_file": mapped_share * cache}
    comps = {k: np.round(v) for k, v in comps.items()}
    changes = sorted(deploys)
    if fixed_at is not None:
        changes.append((fixed_at, fix_image or f"{image}-fix"))
    images = []
    current, since = image, float(t[0])
    for when, img in sorted(changes):
        images.append((since, float(when), current))
        current, since = img, float(when)
    images.append((since, float(t[-1]), current))
    return Container(dict(labels), t, comps, float(limit), restarts, ooms, killed, images, kills)


__all__ = ["Container", "MIB", "container"]
