"""Restarts, OOM kills and deploys from kube-state-metrics and cAdvisor, as events.

The series that tell what happened to a container:

* ``kube_pod_container_status_restarts_total`` (kube-state-metrics): a
  restart wherever it goes up;
* ``kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}``:
  a restart at a time when it is 1 was an OOM kill;
* ``container_oom_events_total`` (cAdvisor): an OOM kill wherever it goes up;
* ``kube_pod_container_info{image=...}``: a deploy wherever an image appears
  for a ``(namespace, container)`` that did not run it a step before (a
  rollout creating new pods, or a pod whose image changed in place); an
  image present at the start of the range is not a deploy.

Each is asked for with a PromQL expression that returns points only where
something happened (``(x - x offset <step>) > 0``, ``x unless x offset
<step>``), so the answers stay small however long the range and however
large the fleet. OOM kills are counted from ``container_oom_events_total``
for the containers that have it and from the OOM-killed restarts for the
others, never from both.

Event labels: restarts and OOM kills carry ``namespace``, ``pod`` and
``container``; deploys carry ``namespace`` and ``container`` (every pod of
the workload). :meth:`.events.Event.concerns` compares them with a series'
labels on the labels both have.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .events import Event

_BY = "namespace, pod, container"
_CONTAINER = 'container!="",container!="POD"'


def queries(step: float, selector: str = "") -> dict[str, str]:
    """The PromQL of each event family, for a range query at ``step`` seconds.

    Parameters
    ----------
    step : float
        Seconds between evaluations (also the ``offset``).
    selector : str
        Extra label matchers (``namespace="shop"``), added to every selector.

    Returns
    -------
    dict
        ``restarts``, ``oom_restarts``, ``oom_events``, ``deploys`` -> PromQL.
    """
    sel = f",{selector}" if selector else ""
    off = f"offset {max(1, int(round(step)))}s"

    def rise(metric: str, extra: str = "") -> str:
        x = f"max by ({_BY}) ({metric}{{{_CONTAINER}{extra}{sel}}})"
        y = f"max by ({_BY}) ({metric}{{{_CONTAINER}{extra}{sel}}} {off})"
        return f"({x} - {y}) > 0"

    oom_reason = (f"max by ({_BY}) (kube_pod_container_status_last_terminated_reason"
                  f'{{reason="OOMKilled",{_CONTAINER}{sel}}}) > 0')
    info = f"kube_pod_container_info{{{_CONTAINER}{sel}}}"
    by_image = "namespace, container, image"
    return {
        "restarts": rise("kube_pod_container_status_restarts_total"),
        "oom_restarts": f"{rise('kube_pod_container_status_restarts_total')} "
                        f"and on ({_BY}) ({oom_reason})",
        "oom_events": rise("container_oom_events_total"),
        "deploys": f"max by ({by_image}) ({info}) unless max by ({by_image}) ({info} {off})",
    }


Points = list  # [(labels, timestamps, values)]


def fetch_events(fetch: Callable[[str], Points], step: float, start: float,
                 selector: str = "") -> list[Event]:
    """Restart, OOM-kill and deploy events from the server behind ``fetch``.

    Parameters
    ----------
    fetch : callable
        ``fetch(query) -> [(labels, timestamps, values), ...]``: the points of
        a range query over the scan's range at ``step``.
    step : float
        Seconds between evaluations.
    start : float
        Unix seconds of the range's start (an image there is not a deploy).
    selector : str
        Extra label matchers.

    Returns
    -------
    list of Event
        In time order.
    """
    got = {name: fetch(q) for name, q in queries(step, selector).items()}
    return events_from_points(got, start=start, step=step)


def events_from_points(got: dict[str, Points], *, start: float, step: float) -> list[Event]:
    """Turn the points of :func:`queries` into events (see the module docstring)."""
    events: list[Event] = []
    oom_restart_at = {(_key(lab), float(t)) for lab, ts, _ in got.get("oom_restarts", ())
                      for t in ts}
    with_oom_counter = {_key(lab) for lab, _, _ in got.get("oom_events", ())}
    for lab, ts, vals in got.get("restarts", ()):
        key = _key(lab)
        for t, n in zip(ts.tolist(), vals.tolist()):
            oom = (key, float(t)) in oom_restart_at
            for _ in range(_count(n)):
                events.append(Event(float(t), "restart",
                                    f"restart of {_where(key)}" + (" (OOMKilled)" if oom else ""),
                                    labels=_labels(key), origin="kube-state-metrics"))
                if oom and key not in with_oom_counter:
                    events.append(Event(float(t), "oom_kill", f"OOM kill of {_where(key)}",
                                        labels=_labels(key), origin="kube-state-metrics"))
    for lab, ts, vals in got.get("oom_events", ()):
        key = _key(lab)
        for t, n in zip(ts.tolist(), vals.tolist()):
            events += [Event(float(t), "oom_kill", f"OOM kill of {_where(key)}",
                             labels=_labels(key), origin="cadvisor")] * _count(n)
    for lab, ts, _ in got.get("deploys", ()):
        ns, container, image = lab.get("namespace", ""), lab.get("container", ""), \
            lab.get("image", "")
        for t in ts.tolist():
            if t <= start + 0.5 * step:
                continue  # running when the range began: not a deploy seen here
            events.append(Event(float(t), "deploy", f"deploy {ns}/{container}:{_tag(image)}",
                                labels={"namespace": ns, "container": container},
                                origin="kube-state-metrics"))
    return sorted(events, key=lambda e: (e.time, e.kind))


def _key(labels) -> tuple[str, str, str]:
    return (labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", ""))


def _labels(key) -> dict:
    return {k: v for k, v in zip(("namespace", "pod", "container"), key) if v}


def _where(key) -> str:
    return "/".join(v for v in key if v)


def _count(n: float) -> int:
    return max(1, int(round(n))) if np.isfinite(n) else 1


def _tag(image: str) -> str:
    """``registry/shop/checkout:1.4.2`` -> ``1.4.2``; an image without a tag stays whole."""
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return last.split("@", 1)[1][:19]  # a digest: sha256:0123456789ab
    return last.split(":", 1)[1] if ":" in last else image


__all__ = ["events_from_points", "fetch_events", "queries"]
