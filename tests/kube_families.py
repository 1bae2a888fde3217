"""Simulated containers (detector.diagnosis.simulate) as the metric families a cluster exports.

cAdvisor: ``container_memory_working_set_bytes``, ``_rss``, ``_cache``, ``_swap``,
``_mapped_file``, ``container_spec_memory_limit_bytes`` and (for the containers
named in ``oom_counter``) ``container_oom_events_total``, with the kubelet's
``instance``/``job`` labels. kube-state-metrics: ``kube_pod_container_status_restarts_total``,
``kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}`` (only from
the first OOM kill on, as kube-state-metrics exports it) and ``kube_pod_container_info``
(one series per image, present while the container runs it).
"""

from __future__ import annotations

import numpy as np

from prometheus_server import Family

CADVISOR = {"working_set": "container_memory_working_set_bytes", "rss": "container_memory_rss",
            "cache": "container_memory_cache", "swap": "container_memory_swap",
            "mapped_file": "container_memory_mapped_file"}


def families(containers, *, oom_counter=()) -> list[Family]:
    """The families of ``containers`` (see the module docstring)."""
    out = {name: [] for name in (*CADVISOR.values(), "container_spec_memory_limit_bytes",
                                 "container_oom_events_total",
                                 "kube_pod_container_status_restarts_total",
                                 "kube_pod_container_status_last_terminated_reason",
                                 "kube_pod_container_info")}
    for c in containers:
        t = c.t.astype(np.int64)
        kubelet = {**c.labels, "instance": "10.0.0.7:10250", "job": "kubelet"}
        ksm = {**c.labels, "job": "kube-state-metrics"}
        for comp, metric in CADVISOR.items():
            out[metric].append((kubelet, t, c.components[comp]))
        out["container_spec_memory_limit_bytes"].append((kubelet, t, np.full(t.size, c.limit)))
        if c.labels["pod"] in oom_counter:
            out["container_oom_events_total"].append((kubelet, t, c.oom_events))
        out["kube_pod_container_status_restarts_total"].append((ksm, t, c.restarts))
        if c.oom_killed.any():
            out["kube_pod_container_status_last_terminated_reason"].append(
                ({**ksm, "reason": "OOMKilled"}, t[c.oom_killed], np.ones(c.oom_killed.sum())))
        for a, b, image in c.images:
            on = (c.t >= a) & (c.t < b) if b < c.t[-1] else c.t >= a
            out["kube_pod_container_info"].append(
                ({**ksm, "image": f"registry.example/{image}", "container_id": "x"},
                 t[on], np.ones(on.sum())))
    return [Family(name, series) for name, series in out.items() if series]
