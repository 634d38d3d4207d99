"""Every parameter of an analysis, declared once: its default, its unit, what it does, its range.

An analysis runs with one :class:`Parameters` object. It is validated when it is made, stored in
the case with the results it produced (``case_meta['analysis']['parameters']``), printed by
``detector status``, listed in every evidence packet's method section, and rendered into the
README's method section from the declarations below (``python -m detector.params``), so a
threshold lives in exactly one place and a packet says exactly what produced it. The
user-facing ones (``option=True``) are options of ``detector analyze``.

Random draws come from :func:`Parameters.rng_seed`: one ``numpy.random.SeedSequence`` per named
stream, spawned from ``seed`` and the stream's name, so no two streams share draws.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from detector.errors import DetectorError


def _param(default, doc: str, unit: str = "", lo=None, hi=None, option: bool = False):
    return field(default=default, metadata={"doc": doc, "unit": unit, "lo": lo, "hi": hi, "option": option})


@dataclass(frozen=True)
class Parameters:
    """The parameters of one analysis (see the module docstring)."""

    seed: int = _param(0, "seeds every permutation and Monte Carlo draw; the same case, version and seed give "
                          "the same numbers", lo=0, option=True)
    window_h: int = _param(48, "a notice counts as following a call when it arrives within this many hours after "
                               "a call naming its target (the primary window of p_link)", "h", 1, 24 * 30, option=True)
    sweep_windows_h: tuple[int, ...] = _param((6, 12, 24, 48, 72, 168), "windows of the sweep reported beside "
                                                                        "every p_link", "h")
    alpha: float = _param(0.05, "significance level: bursts, the informative-test rule, the smallest attainable "
                                "p-value a test must reach to be reported", "", 0.001, 0.2, option=True)
    strong_link: float = _param(0.02, "tier strong needs p_link at or below this", "", 0.0, 1.0)
    strong_burst: float = _param(0.01, "tier strong needs p_burst at or below this", "", 0.0, 1.0)
    moderate: float = _param(0.05, "tier moderate needs p_link and p_burst at or below this", "", 0.0, 1.0)
    min_alarm_notices: int = _param(3, "an alarm (strong or moderate) needs at least this many notices within the "
                                       "window after calls that were not reactions", "notices", 1, 1000)
    group_gap_days: int = _param(30, "calls naming a common target within this many days of each other join one "
                                     "campaign", "days", 1, 365)
    copy_gap_days: int = _param(7, "near-duplicate calls join one campaign when posted within this many days of "
                                   "each other (copies spread within hours; a template reused weeks later for "
                                   "other targets is a new call)", "days", 1, 365)
    episode_gap_days: int = _param(7, "a target's calls split into separately tested episodes where they pause "
                                      "longer than this", "days", 1, 365)
    boast_horizon_days: int = _param(14, "a post claiming success counts for a campaign up to this long after its "
                                         "calls; a boast naming no target must follow a call in its chat within it",
                                     "days", 1, 365)
    reaction_lookback_h: int = _param(168, "a call is a reaction when its target was removed, restricted or "
                                           "suspended within this many hours before it", "h", 0, 24 * 90)
    reaction_ratio: float = _param(3.0, "a call is also a reaction when its target had at least min_alarm_notices "
                                        "notices in the window before it and this many times its own average rate",
                                   "×", 1.0, 100.0)
    call_threshold: float = _param(0.5, "a post is a call when the model's probability of a call is at least this "
                                        "(and it has a word for reporting)", "", 0.0, 1.0, option=True)
    call_encoder: bool = _param(True, "the call model's probabilities are averaged with a fine-tuned multilingual "
                                      "encoder's wherever it gives a call or a boast at least 0.05 (off: the linear "
                                      "model alone, faster, less precise on real posts)", option=True)
    copy_threshold: float = _param(0.5, "two calls are near-duplicate copies at this exact Jaccard similarity of "
                                        "their character shingles or above", "", 0.05, 1.0)
    scan_widths_h: tuple[int, ...] = _param((1, 2, 3, 6, 12, 24, 48, 72, 120, 168), "window widths the burst scan "
                                                                                   "statistic tries", "h")
    campaign_replicates: int = _param(999, "Monte Carlo replicates of a campaign's p_burst", "", 19, 100_000)
    stream_replicates: int = _param(999, "Monte Carlo replicates of each subject and policy stream's scan", "",
                                    19, 100_000)
    target_replicates: int = _param(199, "Monte Carlo replicates of each target stream's scan (shared per notice "
                                         "count)", "", 19, 100_000)
    min_target_notices: int = _param(3, "a target's own notice stream is scanned from this many notices", "notices",
                                     1, 1000)
    min_policy_notices: int = _param(8, "a subject's notices citing one policy are scanned from this many",
                                     "notices", 1, 10_000)
    coreport_window_s: int = _param(3600, "two reporters co-report when they flag the same target within this many "
                                          "seconds", "s", 1, 86_400 * 7)
    coreport_min_weight: int = _param(2, "a co-reporting edge needs at least this many co-reports", "", 1, 1000)
    check_lookback_days: int = _param(7, "check lists, for each notice, the calls naming its target in this many "
                                         "days before it", "days", 1, 365)
    reviewed_only: bool = _param(False, "only posts an analyst confirmed count as calls and boasts (posts an analyst "
                                        "rejected never count)", option=True)
    min_history_days: int = _param(14, "bursts are judged against a channel's own daily and weekly rhythm only when "
                                       "the notices span at least this many days (two of each weekday); with less, "
                                       "results say there is too little history to judge bursts", "days", 1, 365)
    coposting_window_min: int = _param(30, "chats posting the same call within this many minutes are tied in the "
                                           "co-posting network", "min", 1, 24 * 60)
    workers: int = _param(0, "how many cores the calls step and the campaigns (processes) and the burst scans "
                             "(threads) may use (0: one per core); the results are the same for any number", "", 0, 1024)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, tuple):
                if not isinstance(value, tuple) or not value or not all(
                        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                    raise DetectorError(f"parameter {f.name} must be a non-empty list of positive whole numbers, "
                                        f"got {value!r}")
                continue
            kind = type(f.default)
            if kind is bool:
                if not isinstance(value, bool | np.bool_):
                    raise DetectorError(f"parameter {f.name} must be true or false, got {value!r}")
                continue
            if kind is int and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
                raise DetectorError(f"parameter {f.name} must be a whole number, got {value!r}")
            if kind is float and (isinstance(value, bool) or not isinstance(value, int | float | np.floating)):
                raise DetectorError(f"parameter {f.name} must be a number, got {value!r}")
            lo, hi = f.metadata["lo"], f.metadata["hi"]
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                bounds = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
                raise DetectorError(f"parameter {f.name} must be {bounds}, got {value!r}")
        if not self.strong_link <= self.moderate or not self.strong_burst <= self.moderate:
            raise DetectorError("the strong thresholds must not be looser than the moderate one")
        if self.window_h not in self.sweep_windows_h:
            object.__setattr__(self, "sweep_windows_h", tuple(sorted({*self.sweep_windows_h, self.window_h})))

    # -- reading and writing -------------------------------------------------------------------
    def as_dict(self) -> dict:
        """Every parameter by name (tuples as lists), as stored in the case and the packet."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict | None) -> Parameters:
        """Parameters from stored values; names this version does not know are an error, missing ones default."""
        values = dict(values or {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise DetectorError(f"unknown analysis parameters {unknown}")
        for name, value in list(values.items()):
            if isinstance(known[name].default, tuple) and isinstance(value, list):
                values[name] = tuple(value)
        return cls(**values)

    def replace(self, **changes) -> Parameters:
        """A validated copy with ``changes`` (None values are ignored: "not given")."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def rng_seed(self, stream: str) -> int:
        """A 32-bit seed for the named random stream, independent of every other stream's."""
        spawn = int(hashlib.sha256(stream.encode("utf-8")).hexdigest()[:8], 16)
        return int(np.random.SeedSequence(self.seed, spawn_key=(spawn,)).generate_state(1)[0])

    def digest(self) -> str:
        """SHA-256 of the parameters (a short way to tell two analyses' settings apart)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()


DEFAULTS = Parameters()


def worker_count(workers: int) -> int:
    """The ``workers`` parameter as a number of workers: itself, or one per core when 0."""
    import os

    return max(1, (os.cpu_count() or 1) if workers == 0 else workers)


def describe(params: Parameters = DEFAULTS) -> list[dict]:
    """One row per parameter: name, value, unit, doc, default, option (a ``detector analyze`` option)."""
    rows = []
    for f in dataclasses.fields(Parameters):
        value = getattr(params, f.name)
        rows.append({"name": f.name, "value": value, "unit": f.metadata["unit"], "doc": f.metadata["doc"],
                     "default": f.default, "option": f.metadata["option"]})
    return rows


def format_value(value, unit: str = "") -> str:
    """A parameter's value as people read it (``48 h``, ``6, 12, 24 h``, ``0.05``)."""
    text = ", ".join(str(v) for v in value) if isinstance(value, tuple | list) else f"{value:g}" if isinstance(
        value, float) else str(value)
    return f"{text} {unit}".strip() if unit and unit not in ("×",) else (f"{text}×" if unit == "×" else text)


def option_name(row: dict) -> str:
    """The ``analyze`` option of a parameter: ``--no-name`` for a switch that is on by default."""
    flag = row["name"].replace("_", "-")
    return f"--no-{flag}" if row["default"] is True else f"--{flag}"


def markdown_table(params: Parameters = DEFAULTS) -> str:
    """The parameters as the README's method section lists them."""
    lines = ["| parameter | default | what it does |", "|---|---|---|"]
    for row in describe(params):
        name = f"`{row['name']}`" + (f" (`{option_name(row)}`)" if row["option"] else "")
        lines.append(f"| {name} | {format_value(row['value'], row['unit'])} | {row['doc']} |")
    return "\n".join(lines)


if __name__ == "__main__":   # python -m detector.params: the README's table
    print(markdown_table())
