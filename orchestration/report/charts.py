"""The charts of one indicator table: a line per signal of `value` over `period`, plus the comparison the
article drew where the registry gives signals a role.

- Lines are split into one chart per unit: the table's `unit` column, else its `source` column, else the
  registry source of the signal (stock returns and page views never share an axis). Signals the registry does
  not know (derived series such as a ratio) get their own chart.
- A `benchmark` role (e.g. QQQ) adds a chart of every other signal of the same source minus the benchmark.
- Otherwise two or more group roles in one source (e.g. `usage` vs `seat`, `challenger` vs `incumbent`) add a
  chart of the average per role.
- Share prices are drawn from daily closes indexed to 100 at the start of a window (the scorecard's) when the
  report has them, instead of the table's year-to-date returns, which fall back to zero every January; the
  comparisons are then drawn on the index too (a difference of indices is a difference of returns in points).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from orchestration.report.content import IndexedPrices, Indicator, RegisteredSignal, WindowVerdict

SOURCE_LABELS = {
    "stocks": "Share prices",
    "trends": "Interest (page views)",
    "github": "GitHub stars",
    "regulatory": "Regulatory documents",
    "derived": "Derived series",
}
UNGROUPED_ROLES = {None, "", "member", "leader", "benchmark"}
# The classes a series' legend names (see content.SIGNAL_CLASS); real data needs no label.
LABELLED_CLASSES = {"synthetic", "derived"}
PRICE_GROUP = "stocks"
# Okabe-Ito first (readable for colour-blind readers), then darker tones; the benchmark is always grey and dashed.
COLORWAY = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F3C8D", "#332288",
            "#999933", "#882255"]
BENCHMARK_STYLE = {"color": "#6B7280", "dash": "dash", "width": 2.5}


@dataclass(frozen=True)
class Chart:
    """One figure of the report, with the heading and caption shown above it."""

    chart_id: str
    title: str
    caption: str
    figure: go.Figure
    kind: str = "indicator"


Series = dict[str, list[tuple[dt.date, float]]]


def indicator_charts(indicator: Indicator, signals: list[RegisteredSignal],
                     prices: IndexedPrices | None = None) -> list[Chart]:
    """All charts for one indicator table (none when it has no rows); with `prices`, its share prices are drawn
    indexed to 100 at the start of that window."""
    registered = {s.key.lower(): s for s in signals}
    groups: dict[str, Series] = defaultdict(lambda: defaultdict(list))
    roles: dict[str, str | None] = {}
    for row in indicator.rows:
        signal = str(row["signal"])
        known = registered.get(signal.lower())
        group = row.get("unit") or row.get("source") or (known.source if known else "derived")
        groups[str(group)][signal].append((row["period"], float(row["value"])))
        roles[signal] = row.get("role") or (known.role if known else None)
    label = {s: _label(s, registered.get(s.lower())) for s in roles}

    charts: list[Chart] = []
    name = indicator.table.split(".")[-1]
    y_title = _axis_title(indicator.value_description)
    for group, series in sorted(groups.items()):
        if group == PRICE_GROUP and prices and prices.series:
            for title, caption, figure in _indexed_charts(prices, registered):
                charts.append(Chart(f"chart-{name}-{len(charts) + 1}", title, caption, figure, "indexed_prices"))
            continue
        heading = SOURCE_LABELS.get(group, group.replace("_", " ").capitalize())
        if len(groups) == 1:
            heading = "Each signal"
        figure = _figure(y_title)
        for signal in sorted(series, key=lambda s: (roles[s] != "leader", roles[s] == "benchmark", s.lower())):
            figure.add_trace(_line(label[signal], series[signal], roles[signal]))
        charts.append(Chart(f"chart-{name}-{len(charts) + 1}", heading, indicator.value_description, figure))
        comparison = _benchmark_chart(series, roles, label, y_title) or _role_chart(series, roles, y_title)
        if comparison:
            title, caption, figure = comparison
            charts.append(Chart(f"chart-{name}-{len(charts) + 1}", title, caption, figure))
    return charts


def history_chart(chart_id: str, history: list[WindowVerdict]) -> Chart:
    """One prediction's headline value night by night: a line per window over the as_of dates of
    marts.verdict_history (a night without a headline value, too little data, leaves a gap)."""
    by_window: dict[str, list[WindowVerdict]] = defaultdict(list)
    for row in history:
        by_window[row.window].append(row)
    figure = _figure("headline value")
    figure.update_layout(height=300, hovermode="closest")
    for window, rows in by_window.items():
        rows = sorted(rows, key=lambda r: r.as_of)
        figure.add_trace(go.Scatter(
            x=[r.as_of.isoformat() for r in rows], y=[r.headline_value for r in rows], name=window.replace("_", " "),
            mode="lines+markers", connectgaps=False, line={"width": 2.5 if rows[-1].is_scorecard_window else 1.6},
            text=[f"{r.label}: {r.verdict.replace('_', ' ')}" for r in rows],
            hovertemplate="%{x}<br>%{text}<br>%{y:,.2f}<extra></extra>"))
    nights = sorted({row.as_of for row in history})
    caption = (f"The headline value of every window on each of {len(nights)} nights ({nights[0]} to {nights[-1]}), "
               "from marts.verdict_history; a gap is a night with too little data for a value.") if nights else ""
    if all(row.headline_value is None for row in history):
        caption += " No window has had a headline value yet: every night had too little data."
    return Chart(chart_id, "Headline value night by night", caption, figure, "history")


def _label(signal: str, known: RegisteredSignal | None) -> str:
    """The legend name; synthetic stand-ins and series derived from real data say so."""
    return f"{signal} ({known.provenance})" if known and known.provenance in LABELLED_CLASSES else signal


def _indexed_charts(prices: IndexedPrices,
                    registered: dict[str, RegisteredSignal]) -> list[tuple[str, str, go.Figure]]:
    """The share prices indexed to 100 at the start of the window, then the benchmark or per-role comparison
    drawn on the same index."""
    series: Series = dict(prices.series)
    roles = {ticker: (registered[ticker.lower()].role if ticker.lower() in registered else None) for ticker in series}
    label = {ticker: _label(ticker, registered.get(ticker.lower())) for ticker in series}
    y_title = f"index, last close before {prices.window_start} = 100"
    figure = _figure(y_title)
    figure.update_yaxes(zeroline=False)
    figure.add_hline(y=100, line={"color": "#9CA3AF", "width": 1})
    for ticker in sorted(series, key=lambda s: (roles[s] != "leader", roles[s] == "benchmark", s.lower())):
        figure.add_trace(_line(label[ticker], series[ticker], roles[ticker]))
    late = sorted(t for t, (day, _) in prices.base.items() if day >= prices.window_start)
    listed = (f" First listed inside the window, so indexed from the first close there: {', '.join(late)}."
              if late else "")
    since = f"since the start of {prices.label}"
    charts = [(f"Share prices over {prices.label}, indexed to 100 at the start",
               f"Window {prices.label} ({prices.window_start} to {prices.window_end}): each daily close "
               "(split-adjusted, from core.fct_stock_daily) divided by the ticker's last close before "
               f"{prices.window_start}, × 100; 150 means up 50% {since}.{listed}", figure)]
    benchmark = _benchmark_chart(series, roles, label, "index")
    if benchmark:
        title, _, figure = benchmark
        charts.append((f"{title} (over {prices.label})",
                       "Each ticker's index minus the benchmark's on the same day: the difference of their returns "
                       f"{since}, in percentage points; above zero means ahead.", figure))
    elif groups := _role_chart(series, roles, "index"):
        title, _, figure = groups
        charts.append((f"{title} (over {prices.label})",
                       "The mean index of each group's tickers on every day: an equally weighted basket's return "
                       f"{since}; the groups are the roles the registry gives them.", figure))
    return charts


def _axis_title(description: str) -> str:
    """A short description of `value` makes a good axis title; a long one is left to the caption above."""
    text = description.rstrip(".")
    return text if len(text) <= 45 else ""


def _figure(y_title: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        template="plotly_white", colorway=COLORWAY, height=360, margin={"l": 60, "r": 20, "t": 10, "b": 40},
        hovermode="x unified", legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        yaxis={"title": {"text": y_title}, "zeroline": True, "zerolinecolor": "#9CA3AF"},
        xaxis={"type": "date"},
    )
    return figure


def _line(name: str, points: list[tuple[dt.date, float]], role: str | None, **style: Any) -> go.Scatter:
    points = sorted(points)
    line: dict[str, Any] = {"width": 3.5 if role == "leader" else 1.8} | style
    if role == "benchmark":
        line = BENCHMARK_STYLE | style
    return go.Scatter(x=[p.isoformat() for p, _ in points], y=[v for _, v in points], name=name,
                      mode="lines+markers" if len(points) < 3 else "lines", line=line,
                      hovertemplate="%{y:,.2f}")


def _benchmark_chart(series: Series, roles: dict[str, str | None], label: dict[str, str],
                     y_title: str) -> tuple[str, str, go.Figure] | None:
    """Each signal minus the benchmark (the mean of the benchmark signals) in the same period."""
    benchmarks = sorted(s for s in series if roles.get(s) == "benchmark")
    others = sorted(s for s in series if roles.get(s) != "benchmark")
    if not benchmarks or not others:
        return None
    by_period: dict[dt.date, list[float]] = defaultdict(list)
    for signal in benchmarks:
        for period, value in series[signal]:
            by_period[period].append(value)
    benchmark = {period: sum(values) / len(values) for period, values in by_period.items()}
    figure = _figure(f"{y_title} minus benchmark" if y_title else "difference from benchmark")
    for signal in sorted(others, key=lambda s: (roles[s] != "leader", s.lower())):
        spread = [(p, v - benchmark[p]) for p, v in series[signal] if p in benchmark]
        if spread:
            figure.add_trace(_line(label[signal], spread, roles[signal]))
    if not figure.data:
        return None
    names = ", ".join(label[s] for s in benchmarks)
    return (f"Against the benchmark: {names}",
            f"Each signal's value minus the benchmark's in the same month; above zero means ahead of {names}.",
            figure)


def _role_chart(series: Series, roles: dict[str, str | None],
                y_title: str) -> tuple[str, str, go.Figure] | None:
    """The average per role, when the registry splits a source's signals into two or more groups."""
    members: dict[str, list[str]] = defaultdict(list)
    for signal in series:
        if roles.get(signal) not in UNGROUPED_ROLES:
            members[str(roles[signal])].append(signal)
    if len(members) < 2:
        return None
    figure = _figure(f"{y_title}, average" if y_title else "average per group")
    for role, signals in sorted(members.items()):
        by_period: dict[dt.date, list[float]] = defaultdict(list)
        for signal in signals:
            for period, value in series[signal]:
                by_period[period].append(value)
        figure.add_trace(_line(f"{role} ({len(signals)})", [(p, sum(v) / len(v)) for p, v in by_period.items()],
                               None, width=3))
    groups = " vs ".join(sorted(members))
    return (f"Average per group: {groups}",
            "The mean of each group's signals in every month; the groups are the roles the registry gives them.",
            figure)
