"""A verdict in words: why a series was judged a leak, or why it only looks like one.

Reads a report as ``Report.to_dict()`` (the fields of the public contract)
and its evidence defensively: evidence keys come and go as the analysis
changes, so a missing or oddly typed entry is skipped, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from .formats import human_bytes_rate, human_duration, human_time

#: What a failed check of the growth regime means (``evidence.growth``).
CRITERIA = {
    "significant": "the growth is not statistically significant (Mann-Kendall, corrected "
                   "for autocorrelation)",
    "above_noise": "the growth is small against the noise",
    "relative_growth": "the growth is small relative to the level",
    "duration": "the growth has not lasted long enough",
    "points": "too few floor points to judge the growth",
    "short_growth_swing": "the growth is short and small against what the series swings "
                          "anyway",
    "not_single_step": "it is one step between two flat levels",
    "current": "the growth has stopped: the floor is flat since",
    "not_saturating": "the growth slows down to a plateau",
    "new_high": "the floor only climbs back to a level it held before",
}

#: Why a longer rise of the floor was set aside (``evidence.long_run_trend``), by the
#: look-alike that matched it; a growth check that failed reads as in CRITERIA.
SET_ASIDE = {
    "warmup": "it slows down to a plateau, as a warm-up does",
    "recovery": "it only climbs back to a level the floor held before",
    "level_shift": "it is a step between two flat levels",
    "resolved_leak": "it stopped: the floor has been flat since",
}

#: Why a pattern that is not a leak looks like one, and why it is not.
LOOKALIKES = {
    "stable": "No sustained growth: the floor stays level.",
    "periodic": "Memory rises and falls with the load and returns to its level every "
                "period{period}; compared like with like, the floor does not grow.",
    "gc_sawtooth": "A garbage-collection sawtooth: memory is given back at every collection"
                   "{period}, and the floor after collections does not rise.",
    "level_shift": "A level shift: flat before and after a step (a deploy, a configuration "
                   "change), not continuing growth.",
    "warmup": "A warm-up: the growth slows down to a plateau (caches and pools filling).",
    "resolved_leak": "A leak that stopped: the floor grew{onset}, then stayed flat (a fix or "
                     "a restart).",
    "scheduled_restarts": "Restarts ({lifetimes} lifetimes) without a leak inside them: the "
                          "drops are scheduled or operational, memory does not grow with "
                          "uptime.",
    "batch_spikes": "Work that comes and goes: memory ramps up late in each cycle and is "
                    "released, instead of growing with uptime.",
    "recovery": "A recovery: the floor climbs back to where it was before a dip.",
}


@dataclass(frozen=True)
class Check:
    """One named look-alike check of the evidence (``evidence["lookalikes"]``).

    Attributes
    ----------
    name : str
    matched : bool or None
        Whether the series looks like this benign pattern.
    value, threshold : Any
        What was measured and the threshold it was compared with (as given).
    reason : str
    """

    name: str
    matched: bool | None
    value: Any = None
    threshold: Any = None
    reason: str = ""


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _evidence(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    ev = fields.get("evidence")
    return ev if isinstance(ev, Mapping) else {}


def checks(fields: Mapping[str, Any]) -> list[Check]:
    """The named look-alike checks in the evidence, if there are any (else empty)."""
    items = _evidence(fields).get("lookalikes")
    if isinstance(items, Mapping):  # {name: {...}} is accepted too
        items = [{"name": k, **(v if isinstance(v, Mapping) else {"value": v})}
                 for k, v in items.items()]
    if not isinstance(items, (list, tuple)):
        return []
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        # ``holds`` is what the detector writes (a look-alike that matches); ``matched``
        # is accepted from other writers
        matched = item.get("matched", item.get("holds"))
        out.append(Check(str(item.get("name", "?")),
                         bool(matched) if isinstance(matched, (bool, int)) else None,
                         item.get("value"), item.get("threshold"),
                         str(item.get("reason") or "")))
    return out


def growth(fields: Mapping[str, Any]) -> str:
    """A growth rate in value units per second shown per hour (bytes when large)."""
    slope = _num(fields.get("slope"))
    if slope is None:
        return "-"
    if abs(slope) * 3600 < 1e3:  # counts (goroutines, file descriptors), not bytes
        return f"{slope * 3600:+.3g}/h"
    return human_bytes_rate(slope)


def verdict_sentence(fields: Mapping[str, Any]) -> str:
    """The verdict in one sentence (for the table and the heading of a plot)."""
    verdict = fields.get("verdict")
    pattern = str(fields.get("pattern") or "?").replace("_", " ")
    score = _num(fields.get("score"))
    conf = f" (score {score:.2f})" if score is not None else ""
    if verdict == "leak":
        return f"Leak: {pattern}{conf}."
    if verdict == "no_leak":
        return f"Not a leak: {pattern}{conf}."
    if verdict == "insufficient_data":
        return "Not judged: insufficient data."
    if verdict == "error":
        return "Not judged: the series could not be analysed."
    return f"{verdict}: {pattern}{conf}."


def explain(fields: Mapping[str, Any]) -> list[str]:
    """Sentences that say why the verdict is what it is.

    Parameters
    ----------
    fields : mapping
        ``Report.to_dict()`` of the series (or a result row of a scan).

    Returns
    -------
    list of str
        The first sentence is the verdict; for a look-alike one says why it is
        not a leak.
    """
    ev = _evidence(fields)
    out = [verdict_sentence(fields)]
    verdict = fields.get("verdict")
    if verdict == "error":
        return out + [str(fields.get("error") or "")]
    if verdict == "insufficient_data":
        reason = ev.get("insufficient")
        return out + ([f"{str(reason)[0].upper()}{str(reason)[1:]}."] if reason else [])
    if verdict == "leak":
        out += _leak_sentences(fields, ev)
    else:
        out += _lookalike_sentences(fields, ev)
    notes = ev.get("notes")
    if isinstance(notes, (list, tuple)) and notes:
        out.append("Input: " + "; ".join(str(n) for n in notes) + ".")
    return out


def _regime(ev: Mapping[str, Any]) -> Mapping[str, Any]:
    regime = ev.get("regime")
    return regime if isinstance(regime, Mapping) else {}


def _lifetimes(ev: Mapping[str, Any]) -> Mapping[str, Any]:
    lt = ev.get("lifetimes")
    return lt if isinstance(lt, Mapping) else {}


def _growth_checks(ev: Mapping[str, Any]) -> dict:
    """The growth checks of the evidence (``evidence.growth``), by name."""
    items = ev.get("growth")
    if not isinstance(items, (list, tuple)):
        return {}
    return {str(c.get("name")): c for c in items if isinstance(c, Mapping)}


def _leak_sentences(fields, ev) -> list[str]:
    out = []
    regime = _regime(ev)
    onset = _num(fields.get("onset"))
    since = f" since {human_time(onset)}" if onset is not None else ""
    rate = growth(fields)
    interval = ev.get("slope_interval")
    ci = ""
    if isinstance(interval, (list, tuple)) and len(interval) == 2 and all(
            _num(x) is not None for x in interval):
        lo, hi = growth({"slope": interval[0]}), growth({"slope": interval[1]})
        ci = f" (95 % interval {lo} to {hi})" if len({lo, hi, rate}) > 1 else ""
    out.append(f"The floor grows at {rate}{ci}{since}.")
    grown = _growth_checks(ev)
    rel = _num(regime.get("relative_growth"))
    if rel is None and "relative_growth" in grown:
        rel = _num(grown["relative_growth"].get("value"))
    dur = _num(regime.get("duration"))
    p = _num(regime.get("mk_p"))
    if p is None and "significant" in grown:
        p = _num(grown["significant"].get("value"))
    bits = []
    if rel is not None:
        bits.append(f"it grew by {rel:.0%} of its level")
    if dur is not None:
        bits.append(f"over {human_duration(dur)}")
    if p is not None:
        bits.append(f"trend p = {p:.2g} (Mann-Kendall, corrected for autocorrelation)")
    if bits:
        out.append(bits[0][0].upper() + ", ".join(bits)[1:] + ".")
    lt = _lifetimes(ev)
    if fields.get("pattern") == "restart_loop":
        count = lt.get("count")
        out.append(f"It restarts and climbs again in every lifetime ({(count or 1) - 1} "
                   "completed lifetimes, their growth with uptime tested together): an "
                   "OOM-kill loop.")
    ttl = _num(fields.get("time_to_limit"))
    limit = _num(ev.get("limit"))
    revealed = _num(ev.get("revealed_limit"))
    if ttl is not None:
        which = "the limit" if limit is not None else "the level where it restarts"
        bounds = ev.get("time_to_limit_interval")
        span = ""
        if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
            lo, hi = (_num(b) for b in bounds)
            shown = (human_duration(lo) if lo is not None else None,
                     human_duration(hi) if hi is not None else "never")
            if shown[0] is not None and len({shown[0], shown[1], human_duration(ttl)}) > 1:
                span = f" (between {shown[0]} and {shown[1]})"
        out.append(f"At this rate it reaches {which} in {human_duration(ttl)}{span}.")
    elif limit is None and revealed is None:
        out.append("No memory limit was given, so no time to limit.")
    return out


def _lookalike_sentences(fields, ev) -> list[str]:
    pattern = str(fields.get("pattern") or "")
    period = _num(fields.get("period"))
    lt = _lifetimes(ev)
    onset = _num(ev.get("resolved_onset"))
    template = LOOKALIKES.get(pattern)
    out = []
    readings = {str(c.get("name")) for c in ev.get("lookalikes") or []
              if isinstance(c, Mapping) and c.get("role") == "reading"}
    matched = [c for c in checks(fields) if c.matched and c.reason and c.name not in readings]
    if template:
        out.append(template.format(
            period=f" ({human_duration(period)})" if period is not None else "",
            onset=f" from {human_time(onset)}" if onset is not None else "",
            lifetimes=lt.get("count", "several")))
    out += [f"Not a leak because: {c.reason}" + ("" if c.reason.endswith(".") else ".")
            for c in matched]
    failed = ev.get("failed")
    grown = _growth_checks(ev)
    if not isinstance(failed, (list, tuple)) and not matched:
        failed = [name for name, c in grown.items() if not c.get("holds")]
    if isinstance(failed, (list, tuple)) and failed:
        reasons = []
        for name in failed:
            text = CRITERIA.get(str(name), str(name).replace("_", " "))
            if name == "current" and _num(ev.get("growth_end")) is not None:
                text += f" {human_time(_num(ev.get('growth_end')))}"
            elif name == "current":
                text = text.replace(": the floor is flat since", "")
            reasons.append(text)
        out.append("Growth was found, but " + "; ".join(reasons) + ".")
    out += _set_aside_sentences(ev)
    return out


def _set_aside_sentences(ev) -> list[str]:
    """A longer rise of the floor that was judged and set aside (``long_run_trend``)."""
    trend = ev.get("long_run_trend")
    if not isinstance(trend, Mapping):
        return []
    name = str(trend.get("decided_by") or "")
    why = SET_ASIDE.get(name) or CRITERIA.get(name)
    if why is None:
        return []
    rel, dur, onset = (_num(trend.get(k)) for k in ("relative_growth", "duration", "onset"))
    rise = "".join([f" by {rel:.0%} of its level" if rel is not None else "",
                    f" over {human_duration(dur)}" if dur is not None else "",
                    f" from {human_time(onset)}" if onset is not None else ""])
    return [f"Over a longer stretch the floor rose{rise}, but {why}."]
