"""Config: every threshold of the analysis, with documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Config:
    """Thresholds of :func:`detector.analyze`.

    The defaults are meant to work from 1 s to 5 min sampling and from one
    hour to 30 days of history. Make a variant with :meth:`replace`.

    Attributes
    ----------
    min_samples : int
        Fewest valid samples to judge a series (samples). Default 30.
    min_duration : float
        Shortest history to judge a series (seconds); applied only when
        timestamps are given. Default 1800 (30 minutes).
    max_missing_fraction : float
        Largest share of the expected samples that may be missing. Default 0.5.
    negative_is_missing : bool
        Treat negative values as missing (memory and counts cannot be
        negative; exporters write -1 for "unavailable"). Default True.
    max_bins : int
        The current lifetime is summarised in at most this many time bins (a
        completed one in ``completed_max_bins``). Default 720.
    completed_max_bins : int
        A completed lifetime (one that ended with a restart) is summarised in
        this many time bins (never more than ``max_bins``; a few more when a day
        or a week must span a whole number of them). It is judged as a replicate
        of the current lifetime, whose onset and time to the limit need the finer
        grid; its own verdict needs its shape. The level the current lifetime
        must exceed to be more than a recovery is still read on the finer grid.
        Default 180 (a quarter of ``max_bins``): a week of restart loops judges
        five lifetimes, and the statistics of each cost as the square of its
        floor points.
    alpha : float
        Significance level of the autocorrelation-corrected Mann-Kendall test
        on the floor of the growth regime. Default 0.001.
    min_relative_growth : float
        Smallest growth of the regime, as a share of the lifetime's typical
        level, that counts as a leak. Default 0.03 (3 %): machine memory in
        percent sits near 90 % and a leak of a few points in a week is real;
        the noise and significance checks judge whether it is there at all.
    min_noise_ratio : float
        Smallest growth of the regime in units of the floor's noise sigma,
        for a regime of at most ``noise_ratio_points`` floor points. Default 5.
    noise_ratio_points : int
        Beyond this many floor points the ratio shrinks with the square root
        of the points (many points pin a trend down better than few: a GC
        floor sampled a few times per cycle is noisy but long). Default 32.
    min_noise_ratio_floor : float
        The ratio never goes below this. Default 2.5.
    min_leak_duration : float
        Growth regimes this long always count as sustained (seconds). Default
        2700 (45 min).
    min_leak_fraction : float
        ...and so do regimes spanning this share of the lifetime, when that is
        shorter: a 9-minute test run or a 45-minute trace is judged on its own
        time scale. Default 0.2.
    min_periods : float
        With a dominant period, the regime must also span this many periods.
        Default 2.
    short_growth_swing : float
        Growth shorter than twice ``min_leak_duration`` must raise the floor by at
        least this share of the lifetime's p5-p95 swing: over a short stretch an
        old generation filling before its first full collection, or a cache
        filling, looks like a leak, and only a large move of the floor tells
        them apart. Default 0.45.
    min_floor_points : int
        Fewest floor points a regime needs to be judged. Default 8.
    plateau_fraction : float
        A plateau after the growth longer than this share of the lifetime
        (and than 2.5 step spacings of stepwise growth) means the growth has
        stopped. Default 0.15.
    saturation_ratio : float
        The second half of the regime must grow at least this share of the
        first half's rate; below, it is a warm-up. Default 0.3.
    warmup_late_share : float
        ...and a warm-up makes less than this share of its growth in the second
        half (block medians of the floor). Default 0.3.
    warmup_new_high : float
        ...and its end sets no new high: the 90th percentile of the last fifth
        of the regime's floor tops that of the rest by less than this share of
        the growth. Steady growth tops it by about 0.26, a plateau by about 0;
        the default, 0.15, sits a little above the middle (a false alarm costs
        more than a late one).
    convex_ratio : float
        Second-half / first-half rate above which growth is called convex.
        Default 1.8.
    new_high_fraction : float
        The regime must end above the lifetime's earlier high (90th
        percentile of the floor before the onset) by this share of its
        growth; otherwise it is a recovery. Default 0.25.
    restart_loop_min_coverage : float
        In a restart loop, the growth of a leaking lifetime spans at least
        this share of the lifetime (median over the leaking lifetimes): a
        leak grows with uptime from the start. Memory that sits at its
        baseline for most of each cycle and ramps only before each drop is
        periodic work (a batch job), not a leak. Default 0.5.
    staircase_setback : float
        Walking back from the end through growth, a setback smaller than this
        share of the climb before it or of the rise after it does not end the
        growth regime: a climbing staircase may give a little back (a larger
        setback is still a *partial release* when it leaves the floor above
        where the growth before it began). Default 0.25.
    segment_penalty : float
        Penalty per straight-line segment, in units of sigma² log(n).
        Default 4.
    segment_rise_sigma : float
        A segment rises (or a boundary jumps) when it gains more than this
        many noise sigmas. Default 3.
    min_period_strength : float
        Smallest autocorrelation at a period's lag to report it. Default 0.3.
    restart_drop_sigma : float
        A restart drops by more than this many noise sigmas... Default 8.
    restart_drop_fraction : float
        ...and by more than this share of the series' range. Default 0.3.
    restart_giveback : float
        ...giving back at least this share of what the lifetime gained.
        Default 0.6.
    restart_min_lifetime : float
        Drops that recur faster than this (median, seconds) are garbage
        collection, not restarts. Default 3600.
    restart_baseline_drift : float
        Drops are not restarts when the baseline after them climbs steadily
        (three rises in four) by more than this share of the median drop over
        the window: that is load falling on top of growth. Default 0.25.
    restart_baseline_spread : float
        ...or when the levels they land on spread over more than this share of
        the median drop: releases of varying depth, not returns to one
        baseline. Default 0.3.
    min_leaking_lifetimes : int
        Lifetimes a restart loop needs, the current one included: at least
        ``min_leaking_lifetimes - 1`` completed lifetimes long enough to judge,
        whose growth with uptime is then tested pooled (no single one of them
        must leak on its own), and a current one that leaks, climbs again or is
        too young to tell. Default 3.
    score_steepness : float
        Steepness of the score's logistic map of the deciding margin.
        Default 2.
    process_exit : bool
        The series is one run of a process that ends where the series ends (a
        test run in CI): a collapse below half of the highest value so far within
        the last tenth of the samples is the process exiting, not a restart or a
        release, and the samples from there on are not judged. Default False;
        :meth:`for_test_runs` sets it.
    """

    min_samples: int = 30
    min_duration: float = 1800.0
    max_missing_fraction: float = 0.5
    negative_is_missing: bool = True
    max_bins: int = 720
    completed_max_bins: int = 180
    alpha: float = 1e-3
    min_relative_growth: float = 0.03
    min_noise_ratio: float = 5.0
    noise_ratio_points: int = 32
    min_noise_ratio_floor: float = 2.5
    min_leak_duration: float = 2700.0
    min_leak_fraction: float = 0.2
    min_periods: float = 2.0
    short_growth_swing: float = 0.45
    min_floor_points: int = 8
    plateau_fraction: float = 0.15
    saturation_ratio: float = 0.3
    warmup_late_share: float = 0.3
    warmup_new_high: float = 0.15
    convex_ratio: float = 1.8
    new_high_fraction: float = 0.25
    restart_loop_min_coverage: float = 0.5
    staircase_setback: float = 0.25
    segment_penalty: float = 4.0
    segment_rise_sigma: float = 3.0
    min_period_strength: float = 0.3
    restart_drop_sigma: float = 8.0
    restart_drop_fraction: float = 0.3
    restart_giveback: float = 0.6
    restart_min_lifetime: float = 3600.0
    restart_baseline_drift: float = 0.25
    restart_baseline_spread: float = 0.3
    min_leaking_lifetimes: int = 3
    score_steepness: float = 2.0
    process_exit: bool = False

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise ValueError(f"Config.{f.name} must be True or False, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"Config.{f.name} must be a number, got {value!r}")
            if f.type in ("int", int) and not isinstance(value, int):
                raise ValueError(f"Config.{f.name} must be an integer, got {value!r}")
            if not value >= 0:
                raise ValueError(f"Config.{f.name} must be >= 0, got {value}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"Config.alpha must be in (0, 1), got {self.alpha}")
        if self.max_bins < 16:
            raise ValueError(f"Config.max_bins must be >= 16, got {self.max_bins}")
        if self.completed_max_bins < 16:
            raise ValueError(
                f"Config.completed_max_bins must be >= 16, got {self.completed_max_bins}")
        if self.min_floor_points < 4:
            raise ValueError(f"Config.min_floor_points must be >= 4, got {self.min_floor_points}")

    @classmethod
    def for_test_runs(cls, **changes) -> "Config":
        """Thresholds for a test run: minutes of samples (at 1 s, say) from a process's
        start to its exit.

        Judges runs from 2 minutes (``min_duration``), growth that lasts 2 minutes
        (``min_leak_duration``; 20 % of the run when that is shorter), and cuts the
        process's exit at the end (``process_exit``). Everything else is as by
        default: growth must still be significant, a few percent of the level and
        clear of the noise.

        Parameters
        ----------
        **changes
            Further fields to set.

        Returns
        -------
        Config
        """
        return cls(**{"min_duration": 120.0, "min_leak_duration": 120.0,
                      "process_exit": True, **changes})

    def replace(self, **changes) -> "Config":
        """A copy with ``changes`` applied (validated)."""
        return replace(self, **changes)
