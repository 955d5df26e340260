"""The charts of one indicator table: a line per signal of `value` over `period`, plus the comparison the
article drew where the registry gives signals a role.

- Lines are split into one chart per unit: the table's `unit` column, else its `source` column, else the
  registry source of the signal (stock returns and page views never share an axis). Signals the registry does
  not know (derived series such as a ratio) get their own chart.
- A `benchmark` role (e.g. QQQ) adds a chart of every other signal of the same source minus the benchmark.
- Otherwise two or more group roles in one source (e.g. `usage` vs `seat`, `challenger` vs `incumbent`) add a
  chart of the average per role.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from orchestration.report.content import Indicator, RegisteredSignal

SOURCE_LABELS = {
    "stocks": "Share prices",
    "trends": "Interest (page views)",
    "github": "GitHub stars",
    "regulatory": "Regulatory documents",
    "derived": "Derived series",
}
UNGROUPED_ROLES = {None, "", "member", "leader", "benchmark"}
SYNTHETIC = {"synthetic", "partly_synthetic"}
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


Series = dict[str, list[tuple[dt.date, float]]]


def indicator_charts(indicator: Indicator, signals: list[RegisteredSignal]) -> list[Chart]:
    """All charts for one indicator table (none when it has no rows)."""
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


def _label(signal: str, known: RegisteredSignal | None) -> str:
    """The legend name; synthetic stand-in series say so."""
    return f"{signal} (synthetic)" if known and known.provenance in SYNTHETIC else signal


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
