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
    alpha : float
        Significance level of the trend test. Default 0.001.
    min_relative_growth : float
        Smallest growth over the judged window, as a share of the median
        level, that counts as a leak. Default 0.1 (10 %).
    min_noise_ratio : float
        Smallest growth over the judged window, in units of the residual noise
        (robust sigma), that counts as a leak. Default 3.
    still_growing_ratio : float
        The last third of the window must still grow at least this share of
        the overall slope for the leak to be current. Default 0.3.
    n_blocks : int
        The series is summarised by this many block medians before the trend
        test (tames autocorrelation and scrape spikes). Default 200.
    """

    min_samples: int = 30
    min_duration: float = 1800.0
    max_missing_fraction: float = 0.5
    alpha: float = 1e-3
    min_relative_growth: float = 0.10
    min_noise_ratio: float = 3.0
    still_growing_ratio: float = 0.3
    n_blocks: int = 200

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"Config.{f.name} must be a number, got {value!r}")
            if value < 0:
                raise ValueError(f"Config.{f.name} must be >= 0, got {value}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"Config.alpha must be in (0, 1), got {self.alpha}")
        if self.n_blocks < 10:
            raise ValueError(f"Config.n_blocks must be >= 10, got {self.n_blocks}")

    def replace(self, **changes) -> "Config":
        """A copy with ``changes`` applied (validated)."""
        return replace(self, **changes)
