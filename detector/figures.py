"""Figures of a case for the app and the evidence packet: plotly objects, no Streamlit.

Every text that came from a collected post or chat (call texts, chat titles) is HTML-escaped
before it goes into a figure, because plotly renders a subset of HTML (``<a href>``, ``<b>``) in
labels and hover text, and these texts are written by the people the case is about.
"""

from __future__ import annotations

import html

import networkx as nx
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from detector.vocab import ACTIONS, POLICIES

ACTION_COLORS = {
    "complaint": "#9e9e9e", "warning": "#f2c14e", "restricted": "#f78154", "removed": "#d1495b",
    "strike": "#8f2d56", "suspended": "#4a1942", "reinstated": "#2e933c", "other": "#6c8ead",
}
CALL_ROW = "call to report"
NAMED_ROW = "named it, not a call"
from detector.results import EDGE_LABELS  # noqa: E402

EDGE_COLORS = {"forward": "#1f77b4", "copy": "#d1495b", "coposting": "#7f7f7f"}   # detector.results.EDGE_KINDS


def plain(text, limit: int | None = None) -> str:
    """``text`` made safe for a plotly label or hover: shortened, HTML-escaped, newlines as <br>."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True).replace("\n", "<br>")


def _bin_size(start: pd.Timestamp, end: pd.Timestamp) -> tuple[float, str]:
    """A histogram bin (milliseconds, words) that gives a readable number of bars for the span."""
    span = end - start
    if span <= pd.Timedelta(days=4):
        return 3_600_000, "hour"
    if span <= pd.Timedelta(days=30):
        return 6 * 3_600_000, "6 hours"
    return 86_400_000, "day"


def merged_intervals(intervals) -> list[tuple]:
    """Overlapping (start, end) intervals merged, sorted by start: the time covered by any of them."""
    out: list[list] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [tuple(pair) for pair in out]


def timeline_figure(notices: pd.DataFrame, calls: pd.DataFrame, bursts: pd.DataFrame | None = None,
                    target: str | None = None, window: tuple | None = None,
                    title: str | None = None, named: pd.DataFrame | None = None) -> go.Figure:
    """Notices over time by action and by policy, calls to report as markers, bursts shaded.

    Parameters
    ----------
    notices : DataFrame with ``received_at`` (UTC), ``action``, ``policy`` and ``target``
        (optional: ``notice_id``, ``target_title``).
    calls : DataFrame with ``posted_at`` (UTC), ``chat``, ``text`` and ``targets`` (list of
        canonical ids) (optional: ``chat_title``).
    bursts : DataFrame with ``start``, ``end`` (and ``key`` to select by ``target``); the time
        they cover together is shaded.
    target : keep only this target's notices, the calls naming it and its bursts.
    window : (start, end) of the x-axis range shown first; the whole data stays zoomable.
    title : the figure's title.
    named : posts that named the target without being counted as calls
        (:func:`detector.results.posts_naming`: ``posted_at``, ``chat``, ``text``, ``kind``,
        ``p_call``, optional ``chat_title``), drawn as open markers on a row of their own.

    Returns
    -------
    A two-row figure sharing the time axis: notices per bin stacked by action (top), and each
    notice on its policy's row with the calls on a row of their own (bottom).
    """
    notices = notices if notices is not None else pd.DataFrame()
    calls = calls if calls is not None else pd.DataFrame()
    bursts = bursts if bursts is not None else pd.DataFrame()
    if target is not None:
        if len(notices):
            notices = notices[notices["target"] == target]
        if len(calls):
            calls = calls[calls["targets"].map(lambda t: target in list(t) if t is not None else False)]
        if len(bursts) and "key" in bursts:
            bursts = bursts[bursts["key"] == target]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.4, 0.6], vertical_spacing=0.05)
    times = pd.concat([pd.to_datetime(notices.get("received_at", pd.Series(dtype="datetime64[us, UTC]")), utc=True),
                       pd.to_datetime(calls.get("posted_at", pd.Series(dtype="datetime64[us, UTC]")), utc=True)])
    times = times.dropna()
    if window is not None:
        size, size_words = _bin_size(pd.Timestamp(window[0]), pd.Timestamp(window[1]))
    else:
        size, size_words = (3_600_000, "hour") if times.empty else _bin_size(times.min(), times.max())
    present_actions = [a for a in ACTIONS if len(notices) and (notices["action"] == a).any()]
    for action in present_actions:
        rows = notices[notices["action"] == action]
        color = ACTION_COLORS.get(action, "#6c8ead")
        fig.add_trace(go.Histogram(
            x=rows["received_at"], name=action, legendgroup=action, marker_color=color,
            xbins={"size": size}, bingroup="notices",
            hovertemplate=f"%{{y}} {action} notices<extra></extra>"), row=1, col=1)
        hover = [f"{plain(a)} · {plain(p)}<br>{plain(t, 60)}<br>{ts:%Y-%m-%d %H:%M} UTC"
                 for a, p, t, ts in zip(rows["action"], rows["policy"],
                                        rows.get("target_title", rows["target"]).fillna(rows["target"]),
                                        rows["received_at"], strict=True)]
        fig.add_trace(go.Scatter(
            x=rows["received_at"], y=rows["policy"], mode="markers", name=action, legendgroup=action,
            showlegend=False, marker={"color": color, "size": 7, "opacity": 0.75, "line": {"width": 0}},
            text=hover, hovertemplate="%{text}<extra></extra>"), row=2, col=1)
    if len(calls):
        titles = calls["chat_title"].fillna(calls["chat"]) if "chat_title" in calls else calls["chat"]
        hover = [f"call in {plain(t, 40)}<br>{ts:%Y-%m-%d %H:%M} UTC<br>{plain(x, 140)}"
                 for t, ts, x in zip(titles, calls["posted_at"], calls["text"], strict=True)]
        fig.add_trace(go.Scatter(
            x=calls["posted_at"], y=[CALL_ROW] * len(calls), mode="markers", name="call to report",
            marker={"symbol": "triangle-down", "size": 12, "color": "#111111"},
            text=hover, hovertemplate="%{text}<extra></extra>"), row=2, col=1)
        for ts in calls["posted_at"]:
            fig.add_vline(x=ts, line_width=1, line_dash="dot", line_color="rgba(17,17,17,0.35)", row=1, col=1)
    named = named if named is not None else pd.DataFrame()
    if len(named):
        titles = named["chat_title"].fillna(named["chat"]) if "chat_title" in named else named["chat"]
        hover = [f"{plain(k)} (not counted as a call{'' if pd.isna(p) else f', p_call {p:.2f}'}) in {plain(t, 40)}"
                 f"<br>{ts:%Y-%m-%d %H:%M} UTC<br>{plain(x, 140)}"
                 for k, p, t, ts, x in zip(named["kind"], named["p_call"], titles, named["posted_at"], named["text"],
                                           strict=True)]
        fig.add_trace(go.Scatter(
            x=named["posted_at"], y=[NAMED_ROW] * len(named), mode="markers", name="post naming it, not a call",
            marker={"symbol": "triangle-down-open", "size": 11, "color": "#555555"},
            text=hover, hovertemplate="%{text}<extra></extra>"), row=2, col=1)
    shaded = merged_intervals(zip(bursts["start"], bursts["end"], strict=True)) if len(bursts) else []
    for start, end in shaded:
        fig.add_vrect(x0=start, x1=end, fillcolor="#f4a259", opacity=0.22, layer="below", line_width=0,
                      row="all", col=1)
    if len(bursts):
        # Shapes have no legend entry; an empty trace gives the shading one.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="burst (shaded)",
                                 marker={"symbol": "square", "size": 12, "color": "rgba(244,162,89,0.5)"}),
                      row=2, col=1)
    policies = [p for p in POLICIES if len(notices) and (notices["policy"] == p).any()]
    fig.update_yaxes(title_text=f"notices per {size_words}", row=1, col=1)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(reversed(policies)) + ([NAMED_ROW] if len(named) else []) + [CALL_ROW],
                     title_text=None, row=2, col=1)
    fig.update_layout(barmode="stack", height=560, margin={"l": 10, "r": 10, "t": 50 if title else 30, "b": 40},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0},
                      title={"text": plain(title)} if title else None, hovermode="closest")
    if window is not None:
        fig.update_xaxes(range=[pd.Timestamp(window[0]), pd.Timestamp(window[1])])
    return fig


def network_figure(G: nx.Graph, seed: int = 0, title: str | None = None) -> go.Figure:
    """A chat network drawn with a spring layout: chats as nodes, edges coloured by kind.

    Parameters
    ----------
    G : undirected graph whose nodes may carry ``label`` and ``calls`` and whose edges carry
        ``kinds`` (a subset of :data:`detector.results.EDGE_KINDS`) and ``weight``, as
        :func:`detector.views.campaign_network` builds it.
    seed : seeds the layout, so the same graph is drawn the same way every time.
    """
    fig = go.Figure()
    if G.number_of_nodes() == 0:
        fig.update_layout(height=200, annotations=[{"text": "no chats", "showarrow": False}],
                          xaxis={"visible": False}, yaxis={"visible": False})
        return fig
    pos = nx.spring_layout(G, seed=seed, weight=None) if G.number_of_nodes() > 1 else {n: (0.0, 0.0) for n in G}
    for kind, color in EDGE_COLORS.items():
        xs, ys, mids_x, mids_y, hover = [], [], [], [], []
        for a, b, data in G.edges(data=True):
            if kind not in data.get("kinds", ()):
                continue
            (x0, y0), (x1, y1) = pos[a], pos[b]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
            mids_x.append((x0 + x1) / 2)
            mids_y.append((y0 + y1) / 2)
            hover.append(f"{EDGE_LABELS[kind]}: {plain(G.nodes[a].get('label', a), 40)} – {plain(G.nodes[b].get('label', b), 40)}"
                         f"<br>{plain(data.get('detail', ''), 120)}")
        if not xs:
            continue
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=EDGE_LABELS[kind], line={"color": color, "width": 2},
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=mids_x, y=mids_y, mode="markers", showlegend=False, text=hover,
                                 marker={"size": 6, "color": color, "opacity": 0.6},
                                 hovertemplate="%{text}<extra></extra>"))
    nodes = list(G.nodes)
    calls = [int(G.nodes[n].get("calls", 0)) for n in nodes]
    labels = [plain(G.nodes[n].get("label", n), 30) for n in nodes]
    fig.add_trace(go.Scatter(
        x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text", name="chat",
        text=labels, textposition="top center",
        customdata=[[plain(n, 60), c] for n, c in zip(nodes, calls, strict=True)],
        hovertemplate="%{text}<br>%{customdata[0]}<br>%{customdata[1]} calls<extra></extra>",
        marker={"size": [12 + 4 * min(c, 8) for c in calls], "color": "#2d3047", "line": {"width": 1, "color": "white"}}))
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
                      title={"text": plain(title)} if title else None, showlegend=True,
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
                      xaxis={"visible": False}, yaxis={"visible": False}, hovermode="closest")
    return fig
