"""The report as one HTML page: plain CSS and plotly's JavaScript inlined once, nothing fetched from anywhere."""

from __future__ import annotations

import html
import re
from collections import Counter
from functools import cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline

from orchestration.lib.warehouse import CheckRow
from orchestration.report.charts import Chart, history_chart, indicator_charts
from orchestration.report.content import (
    Indicator,
    ProvenanceRow,
    ReportContent,
    ScorecardRow,
    VerdictChange,
    WindowVerdict,
)

STYLESHEET = Path(__file__).with_name("report.css")
VERDICTS = ("supported", "mixed", "not_supported", "insufficient_data")
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def esc(value: object) -> str:
    """Text for HTML; None becomes an empty string."""
    return "" if value is None else html.escape(str(value))


def badge(kind: object) -> str:
    text = str(kind or "unknown")
    return f'<span class="badge {esc(text)}">{esc(text.replace("_", " "))}</span>'


DEMONSTRATION = "demonstration"


def trust_cell(trust: str | None, real: float | None = None, derived: float | None = None,
               synthetic: float | None = None) -> str:
    """The trust badge, the input shares when known, and for a demonstration a label that says so in words."""
    parts = [badge(trust or "none")]
    if trust == DEMONSTRATION:
        parts.append('<span class="demo-label">demonstration data</span>')
    if real is not None:
        parts.append(f'<span class="shares">real {_share(real)} · derived {_share(derived)} · synthetic '
                     f"{_share(synthetic)}</span>")
    return " ".join(parts)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _row_class(trust: str | None) -> str:
    return ' class="demonstration"' if trust == DEMONSTRATION else ""


@cache
def _plotly_js() -> str:
    # A literal "</script>" inside the library would end the tag early; escaping the slash keeps it a string.
    return plotly.offline.get_plotlyjs().replace("</script>", "<\\/script>")


def render_page(content: ReportContent) -> tuple[str, list[Chart]]:
    """The whole page, and the charts drawn in it."""
    charts: list[Chart] = []
    predictions = _predictions_section(content, charts)
    body = "\n".join([_header(content), "<main class=\"wrap\">", _scorecard_section(content), predictions,
                      _provenance_section(content), _quality_section(content), "</main>", _footer(content)])
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AI Pulse report{esc(_as_of_suffix(content))}</title>
<style>
{STYLESHEET.read_text(encoding="utf-8")}
</style>
<script>{_plotly_js()}</script>
</head>
<body>
{body}
</body>
</html>
"""
    return page, charts


def _as_of(content: ReportContent) -> str:
    dates = {str(row.as_of) for row in content.scorecard or [] if row.as_of}
    if not dates and content.settings and content.settings.get("as_of"):
        dates = {str(content.settings["as_of"])}
    return ", ".join(sorted(dates))


def _as_of_suffix(content: ReportContent) -> str:
    as_of = _as_of(content)
    return f" as of {as_of}" if as_of else ""


def _header(content: ReportContent) -> str:
    settings = content.settings or {}
    window = ""
    if settings:
        window = (f"<p>Prediction year {esc(settings.get('prediction_year'))} against baseline "
                  f"{esc(settings.get('baseline_year'))}; history from {esc(settings.get('start_date'))}; "
                  f"data {esc(settings.get('mode'))} as of {esc(settings.get('as_of'))}.</p>")
    return f"""<header class="page"><div class="wrap">
<h1>AI Pulse: how the 2024 predictions hold up{esc(_as_of_suffix(content))}</h1>
<p>The predictions of <em>Navigating the AI landscape of 2024</em>, measured with public signals.</p>
{window}
<nav class="toc"><a href="#scorecard">Scorecard</a><a href="#changes">What changed</a>
<a href="#predictions">Predictions over time</a>
<a href="#provenance">Data provenance</a><a href="#quality">Quality checks</a></nav>
</div></header>"""


def _notice(text: str) -> str:
    return f'<p class="notice">{esc(text)}</p>'


def _scorecard_section(content: ReportContent) -> str:
    if content.scorecard is None:
        return f'<section id="scorecard"><h2>Scorecard</h2>{_notice(content.notices["scorecard"])}</section>'
    counts = Counter(row.verdict for row in content.scorecard)
    summary = "".join(f'<span class="count"><b>{counts.get(v, 0)}</b>{badge(v)}</span>' for v in VERDICTS)
    rows = "\n".join(_scorecard_row(row) for row in content.scorecard)
    return f"""<section id="scorecard">
<h2>Scorecard</h2>
<p class="muted">As of {esc(_as_of(content)) or "an unknown date"}; every verdict applies the registry's
thresholds to the headline value. Trust says how much of a verdict's input was real data, derived from real data
or a synthetic stand-in; a verdict resting mostly on synthetic inputs is a <b>demonstration</b> of the method, not a
finding. Coverage is the share of the registered signals with enough data. Each prediction's windows, nights and
charts follow below.</p>
<div class="summary">{summary}</div>
{_changes_summary(content)}
<div class="scroll"><table>
<thead><tr><th>Id</th><th>Prediction</th><th>Verdict</th><th>Headline</th><th>Value</th><th>Trust</th>
<th>Coverage</th><th>Evidence</th><th>As of</th></tr></thead>
<tbody>
{rows}
</tbody>
</table></div>
</section>"""


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _scorecard_row(row: ScorecardRow) -> str:
    anchor = row.prediction_id.lower()
    return (f'<tr data-prediction="{esc(row.prediction_id)}" data-trust="{esc(row.trust)}"{_row_class(row.trust)}>'
            f'<td class="id"><a href="#{esc(anchor)}">{esc(row.prediction_id)}</a></td><td>{esc(row.title)}</td>'
            f'<td>{badge(row.verdict)}</td><td class="muted">{esc(row.headline_metric)}</td>'
            f'<td class="num">{_value(row.headline_value)}</td>'
            f'<td class="trust">{trust_cell(row.trust, row.real_share, row.derived_share, row.synthetic_share)}</td>'
            f'<td class="num">{_share(row.coverage)}</td>'
            f'<td>{esc(row.evidence)}</td><td class="nowrap">{esc(row.as_of)}</td></tr>')


def _changes_summary(content: ReportContent) -> str:
    """Under the scorecard: what changed since the previous night, new windows, verdicts and values apart."""
    previous, current = content.previous_night, content.current_night
    if content.history is None:
        return f'<p id="changes" class="changes-summary">{esc(content.notices.get("verdict_history", ""))}</p>'
    if previous is None:
        return (f'<p id="changes" class="changes-summary">One night so far ({esc(current)}): nothing to compare '
                "with yet.</p>")
    changes = {pid: content.changes(pid) for pid in content.prediction_ids}
    new = sorted({c.after.label for found in changes.values() for c in found if c.before is None and c.after})
    both = [(pid, c.before, c.after) for pid, found in changes.items() for c in found if c.before and c.after]
    verdicts = [(pid, was, now) for pid, was, now in both if was.verdict != now.verdict]
    values = sorted({pid for pid, was, now in both if was.verdict == now.verdict})
    parts = []
    if new:
        parts.append(f"new window{'s' if len(new) > 1 else ''}: {esc(', '.join(new))}")
    if verdicts:
        parts.append("verdicts changed: " + "; ".join(
            f"{_changes_link(pid)} {esc(now.label)} {esc(was.verdict.replace('_', ' '))} → "
            f"{esc(now.verdict.replace('_', ' '))}" for pid, was, now in verdicts))
    if values:
        parts.append("headline values moved: " + ", ".join(_changes_link(pid) for pid in values))
    text = "; ".join(parts) if parts else "no verdict or headline value changed"
    return (f'<p id="changes" class="changes-summary">Since the previous night ({esc(previous)}, now '
            f"{esc(current)}): {text}.</p>")


def _changes_link(prediction_id: str) -> str:
    return f'<a href="#{esc(prediction_id.lower())}-changes">{esc(prediction_id)}</a>'


def _predictions_section(content: ReportContent, charts: list[Chart]) -> str:
    verdicts = {row.prediction_id: row for row in content.scorecard or []}
    articles = []
    for prediction_id in content.prediction_ids:
        row = verdicts.get(prediction_id)
        title = row.title if row else content.titles.get(prediction_id, "")
        head = (f'<div class="prediction-head"><h3>{esc(prediction_id)} · {esc(title)}</h3>'
                f"{badge(row.verdict) if row else ''}"
                f"{trust_cell(row.trust) if row and row.trust else ''}</div>")
        if row:
            head += (f'<p class="evidence">{esc(row.evidence)}</p><p class="headline">{esc(row.headline_metric)}: '
                     f"<b>{_value(row.headline_value)}</b></p>")
        over_time = _windows_block(prediction_id, content) + _nights_block(prediction_id, content, charts)
        body = [_indicator_block(indicator, content, charts)
                for indicator in content.indicators.get(prediction_id, [])]
        if not body:
            body = [_notice(f"No indicator table for {prediction_id} yet (marts.ind_{prediction_id.lower()}_*), "
                            "so there is nothing to chart.")]
        articles.append(f'<article class="prediction" id="{esc(prediction_id.lower())}" '
                        f'data-prediction="{esc(prediction_id)}">{head}{over_time}{"".join(body)}</article>')
    if not articles:
        articles = [_notice("The warehouse holds no predictions yet; run `ai-pulse run`.")]
    return (f'<section id="predictions"><h2>The predictions over time: windows, nights and charts</h2>'
            f'{"".join(articles)}</section>')


def _windows_block(prediction_id: str, content: ReportContent) -> str:
    """The prediction's verdict in every window, side by side (marts.prediction_verdicts)."""
    if content.verdicts is None:
        return _notice(content.notices["prediction_verdicts"])
    windows = content.verdicts.get(prediction_id, [])
    if not windows:
        return _notice(f"marts.prediction_verdicts has no window for {prediction_id} yet.")
    scorecard = ' <span class="muted">(scorecard)</span>'
    rows = "".join(
        f'<tr data-window="{esc(w.window)}" data-trust="{esc(w.trust)}"{_row_class(w.trust)}>'
        f'<td class="nowrap">{esc(w.label)}{scorecard if w.is_scorecard_window else ""}</td>'
        f'<td>{badge(w.verdict)}</td><td class="num">{_value(w.headline_value)}</td>'
        f'<td class="trust">{trust_cell(w.trust, w.real_share, w.derived_share, w.synthetic_share)}</td>'
        f'<td class="num">{_share(w.coverage)}</td></tr>'
        for w in windows)
    return f"""<div class="windows" data-prediction="{esc(prediction_id)}"><h4>Verdicts by window</h4>
<p class="caption">Each calendar year from the prediction's first, the current one up to as of, and the last 12
months, judged with the same thresholds (marts.prediction_verdicts).</p>
<div class="scroll"><table class="compact">
<thead><tr><th>Window</th><th>Verdict</th><th>Headline value</th><th>Trust</th><th>Coverage</th></tr></thead>
<tbody>{rows}</tbody></table></div></div>"""


def _nights_block(prediction_id: str, content: ReportContent, charts: list[Chart]) -> str:
    """The headline value of each window night by night (marts.verdict_history), and what changed since the
    previous night."""
    if content.history is None:
        return _notice(content.notices["verdict_history"])
    history = content.history.get(prediction_id, [])
    nights = content.nights
    if len(nights) < 2:
        rows = "".join(f'<tr data-window="{esc(h.window)}"><td class="nowrap">{esc(h.label)}</td>'
                       f'<td>{badge(h.verdict)}</td><td class="num">{_value(h.headline_value)}</td></tr>'
                       for h in history)
        night = esc(nights[0]) if nights else "none yet"
        shown = (f'<p class="caption">One night so far ({night}): the chart of the headline value night by night '
                 f'starts with the second.</p><div class="scroll"><table class="compact history-table">'
                 f"<thead><tr><th>Window</th><th>Verdict on {night}</th><th>Headline value on {night}</th></tr>"
                 f"</thead><tbody>{rows}</tbody></table></div>")
    else:
        chart = history_chart(f"history-{prediction_id.lower()}", history)
        charts.append(chart)
        shown = (f'<p class="caption">{esc(chart.caption)}</p><div class="chart" data-kind="{chart.kind}">'
                 f"{_plot(chart)}</div>")
    return (f'<div class="nights" data-prediction="{esc(prediction_id)}" data-nights="{len(nights)}">'
            f"<h4>Night by night</h4>{shown}{_changes_block(prediction_id, content)}</div>")


def _changes_block(prediction_id: str, content: ReportContent) -> str:
    previous = content.previous_night
    anchor = f'id="{esc(prediction_id.lower())}-changes"'
    if previous is None:
        return f'<p class="changes none" {anchor}>What changed: one night so far, nothing to compare with yet.</p>'
    changes = content.changes(prediction_id)
    if not changes:
        return (f'<p class="changes none" {anchor}>Nothing changed since {esc(previous)}: every window has the '
                "same verdict and headline value.</p>")
    items = "".join(f'<li data-window="{esc(c.window)}">{_change(c)}</li>' for c in changes)
    return (f'<div class="changes" {anchor}><p>What changed since {esc(previous)} (now '
            f"{esc(content.current_night)}):</p><ul>{items}</ul></div>")


def _change(change: VerdictChange) -> str:
    def side(row: WindowVerdict | None) -> str:
        if row is None:
            return '<span class="muted">no such window</span>'
        return f"{badge(row.verdict)} {_value(row.headline_value)}"

    label = (change.after or change.before).label  # type: ignore[union-attr] - one side always exists
    return f"<b>{esc(label)}</b>: {side(change.before)} → {side(change.after)}"


def _plot(chart: Chart) -> str:
    return chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart.chart_id,
                                config=PLOT_CONFIG, default_height=f"{_height(chart.figure)}px")


def _height(figure: go.Figure) -> int:
    return int(figure.layout.height or 360)


def _indicator_block(indicator: Indicator, content: ReportContent, charts: list[Chart]) -> str:
    parts = [f'<p class="caption">From <code>{esc(indicator.table)}</code>'
             + (f": {esc(indicator.description)}" if indicator.description else ".") + "</p>"]
    drawn = indicator_charts(indicator, content.signals.get(indicator.prediction_id, []),
                             content.prices.get(indicator.prediction_id))
    if not drawn:
        parts.append(_notice(f"{indicator.table} has no rows with a value yet (or lacks the period, signal and "
                             "value columns), so there is nothing to chart."))
    for chart in drawn:
        charts.append(chart)
        caption = f'<p class="caption">{esc(chart.caption)}</p>' if chart.caption else ""
        parts.append(f'<div class="chart" data-indicator="{esc(indicator.table)}" data-kind="{chart.kind}">'
                     f"<h4>{esc(chart.title)}</h4>{caption}{_plot(chart)}</div>")
    return "".join(parts)


def _provenance_section(content: ReportContent) -> str:
    settings = content.settings or {}
    origin = "recorded responses replayed offline" if settings.get("mode") == "replay" else "live APIs"
    facts = _notice(content.notices["settings"]) if not settings else f"""<dl class="facts">
<dt>Data as of</dt><dd>{esc(settings.get("as_of"))}</dd>
<dt>Run mode</dt><dd>{esc(settings.get("mode"))} ({origin})</dd>
<dt>History from</dt><dd>{esc(settings.get("start_date"))}</dd>
<dt>Compared years</dt><dd>{esc(settings.get("baseline_year"))} → {esc(settings.get("prediction_year"))}
(a signal needs {esc(settings.get("min_coverage"))} of months covered)</dd>
</dl>"""
    if content.provenance is None:
        return (f'<section id="provenance"><h2>Data provenance</h2>{facts}'
                f'{_notice(content.notices["provenance"])}</section>')
    classes = {(r.source, r.signal): r.signal_class for r in content.provenance}
    counts = Counter(classes.values())
    summary = "".join(f'<span class="count"><b>{n}</b>{badge(kind)}</span>' for kind, n in sorted(counts.items()))
    rows = "\n".join(
        f'<tr data-provenance="{esc(r.provenance)}" data-signal-class="{esc(r.signal_class)}">'
        f'<td class="nowrap">{esc(r.source)}</td><td class="series">{esc(r.signal)}</td><td>{esc(r.dataset)}</td>'
        f"<td>{badge(r.provenance)}</td><td>{badge(r.signal_class)}</td><td>{esc(r.predictions)}</td>"
        f'<td class="note">{_origin(r)}</td></tr>'
        for r in sorted(content.provenance,
                        key=lambda r: (r.signal_class == "real", r.source, r.signal.lower(), r.dataset)))
    return f"""<section id="provenance">
<h2>Data provenance</h2>
{facts}
<p class="muted">Every registered series, dataset by dataset, and where its data came from: <b>real</b>
recordings of public data, <b>derived</b> from real data (a star history rebuilt from dated star counts),
<b>synthetic</b> stand-ins where no public data could be had (the scorecard's evidence names any it used), or
<b>missing</b>. A series counts as synthetic if any of its datasets is, else derived if any is, else real; a missing
dataset does not count. The counts below are of series; non-real series are listed first; open a note for its
details.</p>
<div class="summary">{summary}</div>
<div class="scroll"><table>
<thead><tr><th>Source</th><th>Series</th><th>Dataset</th><th>Provenance</th><th>Series counts as</th>
<th>Predictions</th><th>Origin and note</th></tr></thead>
<tbody>
{rows}
</tbody>
</table></div>
</section>"""


def _origin(row: ProvenanceRow) -> str:
    """The note's first sentence, unfolding to the whole note and the origin (files, commits, seeds)."""
    note = row.note.strip()
    first = re.split(r"(?<=[.;])\s", note, maxsplit=1)[0] if note else (row.origin or "no details")
    rest = note[len(first):].strip()
    details = "".join(f"<p>{esc(part)}</p>" for part in (rest, f"Origin: {row.origin}" if row.origin else "") if part)
    if not details:
        return esc(first)
    return f"<details><summary>{esc(first)}</summary>{details}</details>"


def _quality_section(content: ReportContent) -> str:
    if content.checks is None:
        return f'<section id="quality"><h2>Quality checks</h2>{_notice(content.notices["quality"])}</section>'
    if not content.checks:
        return '<section id="quality"><h2>Quality checks</h2><p>No expectations recorded yet.</p></section>'
    failed = [c for c in content.checks if not c.success]
    passed = [c for c in content.checks if c.success]
    blocking = [c for c in failed if c.blocking]
    newest = max(c.checked_at for c in content.checks).replace(microsecond=0)
    verdict = (f"{len(passed)} of {len(content.checks)} expectations passed"
               + (f"; {len(blocking)} blocking failure(s) stopped the marts from being rebuilt" if blocking else "")
               + (f"; {len(failed) - len(blocking)} warning(s)" if len(failed) > len(blocking) else ""))
    assets = ", ".join(sorted({c.asset for c in content.checks}))
    tables = _checks_table(failed)
    if passed:
        tables += (f"<details><summary>Show the {len(passed)} passed expectations</summary>"
                   f"{_checks_table(passed)}</details>")
    return f"""<section id="quality">
<h2>Quality checks</h2>
<p><b>{esc(verdict)}</b> in the latest validation of each raw table ({esc(assets)};
last checked {esc(newest)} UTC). Great Expectations suites run on the raw data before dbt; a blocking failure
keeps the previous marts.</p>
{tables}
</section>"""


def _checks_table(checks: list[CheckRow]) -> str:
    if not checks:
        return ""
    rows = "\n".join(
        f'<tr data-check="{_result(c)}"><td>{badge(_result(c))}</td><td class="nowrap">{esc(c.asset)}</td>'
        f"<td>{esc(c.suite)}</td><td>{esc(c.expectation)}</td><td>{esc(c.column)}</td>"
        f'<td class="num">{esc(c.unexpected_count if c.unexpected_count is not None else "")}</td>'
        f'<td class="note">{esc(c.observed)}</td></tr>'
        for c in checks)
    return f"""<div class="scroll"><table>
<thead><tr><th>Result</th><th>Table</th><th>Suite</th><th>Expectation</th><th>Column</th><th>Unexpected</th>
<th>Observed</th></tr></thead>
<tbody>
{rows}
</tbody>
</table></div>"""


def _result(check: CheckRow) -> str:
    return "pass" if check.success else ("fail" if check.blocking else "warn")


def _footer(content: ReportContent) -> str:
    return (f'<footer class="wrap">Generated {esc(content.generated_at.isoformat(sep=" "))} UTC from '
            f"<code>{esc(content.warehouse)}</code> by <code>ai-pulse report</code>. Charts are interactive: "
            "hover for values, drag to zoom, double-click to reset, click a legend entry to hide a line.</footer>")
