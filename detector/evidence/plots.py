"""Static figures for an evidence packet: the campaign's timeline and its chat network.

matplotlib's object API (no pyplot: no global figure state, whatever backend a notebook or the app
uses) with DejaVu Sans, PNG with no metadata, so the same case gives
the same bytes on every run (the interactive plotly figures are the app's business). Chats are
labelled by letters (A, B, …) whose names the report's chat table gives: names in any script
stay legible that way, whatever fonts the reader's machine has.
"""

from __future__ import annotations

import io
import math

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from detector.vocab import ENFORCEMENT

WIDTH_IN = 6.9          # fits A4's text width (170 mm) at 100 %
DPI = 200
REMOVAL_LIKE = ENFORCEMENT
_STYLE = {"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8,
          "svg.hashsalt": "detector", "path.simplify": True}
_EDGE_STYLE = {"copy": ("#1f77b4", "-", "near-duplicate text"),
               "forward": ("#d62728", "--", "forward"),
               "coposting": ("#2ca02c", ":", "same target within 30 min")}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight",
                pad_inches=0.05, facecolor="white")
    return buf.getvalue()


def timeline_png(named: pd.DataFrame, other: pd.DataFrame, calls: pd.DataFrame, chat_letters: dict[str, str],
                 start: pd.Timestamp, end: pd.Timestamp) -> bytes:
    """Notices per hour on the named targets, the subject's other notices, and the calls.

    Parameters
    ----------
    named : notices on the campaign's targets (``received_at`` UTC, ``action``).
    other : the subject's other notices (context), ``received_at`` UTC.
    calls : the campaign's calls (``posted_at`` UTC, ``chat``).
    chat_letters : chat key -> letter shown on the call markers.
    start, end : the time span shown (UTC).
    """
    bins = pd.date_range(start.floor("h"), end.ceil("h"), freq="h", tz="UTC")
    span_h = max(len(bins), 2)
    step = 1 if span_h <= 24 * 5 else 3 if span_h <= 24 * 14 else 6
    bins = pd.date_range(bins[0], bins[-1] + pd.Timedelta(hours=step), freq=f"{step}h", tz="UTC")

    def counts(frame: pd.DataFrame) -> pd.Series:
        if frame.empty:
            return pd.Series(0, index=bins[:-1])
        cut = pd.cut(frame["received_at"], bins, right=False)
        return cut.value_counts(sort=False).set_axis(bins[:-1])

    removal = named[named["action"].isin(REMOVAL_LIKE)]
    rest = named[~named["action"].isin(REMOVAL_LIKE)]
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, 3.6))
        ax, axc = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2], "hspace": 0.08})
        width = pd.Timedelta(hours=step) * 0.9
        x = bins[:-1].tz_convert(None)
        c_rest, c_rem = counts(rest).to_numpy(), counts(removal).to_numpy()
        ax.bar(x, c_rest, width=width, align="edge", color="#9ecae1", label="complaints and other notices, named targets")
        ax.bar(x, c_rem, width=width, align="edge", bottom=c_rest, color="#08519c",
               label="removals, strikes, restrictions, suspensions, named targets")
        ax.step(x, counts(other).to_numpy(), where="post", color="#969696", linewidth=0.7,
                label="the subject's other notices (context)")
        ax.set_ylabel(f"notices per {step} h")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2, frameon=False, fontsize=7,
                  borderaxespad=0, handlelength=1.5, columnspacing=1.2)
        ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        for t in calls["posted_at"]:
            ax.axvline(pd.Timestamp(t).tz_convert(None), color="#d62728", linewidth=0.6, alpha=0.45, zorder=0)
        ax.set_ylim(0, max(1, (c_rest + c_rem).max(), counts(other).max()) * 1.12)
        chats = sorted(set(calls["chat"].astype(str)), key=lambda c: chat_letters.get(c, c))
        rows = {c: i for i, c in enumerate(chats)}
        axc.scatter([pd.Timestamp(t).tz_convert(None) for t in calls["posted_at"]],
                    [rows[str(c)] for c in calls["chat"]], marker="v", color="#d62728", s=22, zorder=3)
        axc.set_yticks(range(len(chats)), [f"chat {chat_letters.get(c, '?')}" for c in chats])
        axc.set_ylim(-0.7, len(chats) - 0.3)
        axc.invert_yaxis()
        axc.set_ylabel("calls", rotation=0, ha="right", va="center")
        axc.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        axc.set_xlim(bins[0].tz_convert(None), bins[-1].tz_convert(None))
        axc.set_xlabel("time (UTC)")
        locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
        axc.xaxis.set_major_locator(locator)
        axc.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        if len(chats) > 8:
            axc.tick_params(axis="y", labelsize=6)
        return _png(fig)


def network_png(chats: list[str], chat_letters: dict[str, str], edges: pd.DataFrame,
                calls_per_chat: dict[str, int], coposting_min: int = 30) -> bytes:
    """Chats as nodes on a circle (sized by calls), edges by kind: copies, forwards, co-posting.

    ``edges``: DataFrame[a, b, kind, weight] with kind in ``copy``, ``forward`` (a → b),
    ``coposting`` (calls naming the same target within ``coposting_min`` minutes). The circular
    layout needs no random seed and keeps every label readable.
    """
    n = max(len(chats), 1)
    pos = {c: (math.cos(math.pi / 2 - 2 * math.pi * i / n), math.sin(math.pi / 2 - 2 * math.pi * i / n))
           for i, c in enumerate(chats)}
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH_IN, 3.4))
        ax = fig.subplots()
        offsets = {"copy": -0.06, "forward": 0.0, "coposting": 0.06}
        for e in edges.itertuples():
            if e.a not in pos or e.b not in pos:
                continue
            color, style, _label = _EDGE_STYLE[e.kind]
            (x1, y1), (x2, y2) = pos[e.a], pos[e.b]
            arrow = "-|>" if e.kind == "forward" else "-"
            ax.annotate("", xy=(x2, y2), xytext=(x1, y1),
                        arrowprops={"arrowstyle": arrow, "color": color, "linestyle": style,
                                    "linewidth": 0.8 + 0.3 * min(float(e.weight), 5),
                                    "shrinkA": 13, "shrinkB": 13, "mutation_scale": 12,
                                    "connectionstyle": f"arc3,rad={offsets[e.kind]}"})
        for c in chats:
            x, y = pos[c]
            size = 260 + 120 * min(calls_per_chat.get(c, 0), 6)
            filled = calls_per_chat.get(c, 0) > 0
            ax.scatter([x], [y], s=size, color="#fdd0a2" if filled else "white", edgecolors="#7f2704",
                       linewidths=1.0, zorder=3)
            ax.text(x, y, chat_letters.get(c, "?"), ha="center", va="center", fontsize=10, fontweight="bold",
                    zorder=4)
        handles = [Line2D([0], [0], color=col, linestyle=sty, linewidth=1.6,
                          label=lab.replace("30 min", f"{coposting_min} min"))
                   for col, sty, lab in _EDGE_STYLE.values()]
        handles.append(Line2D([0], [0], marker="o", color="white", markerfacecolor="#fdd0a2",
                              markeredgecolor="#7f2704", markersize=9, label="chat with calls (size: calls)"))
        handles.append(Line2D([0], [0], marker="o", color="white", markerfacecolor="white",
                              markeredgecolor="#7f2704", markersize=9, label="origin of a forward"))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=7)
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(-1.25, 1.25)
        ax.set_aspect("equal")
        ax.axis("off")
        return _png(fig)
