"""The shape of one kernel benchmark case, shared by the area modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Case:
    """One kernel timed against its peer on the same input.

    Attributes
    ----------
    name : str
        Row label, e.g. ``"pelt l2 jump=5"``.
    make : callable (n, rng) -> tuple
        Builds the input arguments for size ``n`` (samples).
    ours : callable (*args) -> Any
        Runs our kernel on the input.
    peer_name : str or None
        The reference it is compared with (``None``: no peer, time ours only).
    peer : callable (*args) -> Any, optional
        Runs the reference on the same input.
    sizes : tuple of int
        Input sizes (samples).
    peer_max_n : int or None
        Largest size at which the peer is attempted; larger sizes are recorded
        as "not attempted" with the reason in ``peer_limit_reason``.
    peer_limit_reason : str
        Why the peer is not run above ``peer_max_n`` (memory, known runtime).
    repeats : int
        Number of timed runs of ours (median reported).
    """

    name: str
    make: Callable[[int, np.random.Generator], tuple]
    ours: Callable[..., Any]
    peer_name: str | None = None
    peer: Callable[..., Any] | None = None
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000, 10_000_000)
    peer_max_n: int | None = None
    peer_limit_reason: str = ""
    repeats: int = 5
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A performance target checked on the measured rows.

    ``check`` receives a dict ``{(case_name, n): (ours_seconds, peer_seconds|None)}``
    and returns ``(met: bool, detail: str)``.
    """

    text: str
    check: Callable[[dict], tuple[bool, str]]


def ratio(results: dict, name: str, n: int) -> float:
    """Peer time / our time for case ``name`` at size ``n`` (KeyError without a peer time)."""
    ours, peer = results[(name, n)]
    if not isinstance(peer, float):
        raise KeyError(f"no peer time for {name} at {n}")
    return peer / ours
