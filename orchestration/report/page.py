"""The report as one HTML page: plain CSS and plotly's JavaScript inlined once, nothing fetched from anywhere."""

from __future__ import annotations

import html
import re
from collections import Counter
from functools import cache
from pathlib import Path

import plotly.offline

from orchestration.lib.warehouse import CheckRow
from orchestration.report.charts import Chart, indicator_charts
from orchestration.report.content import Indicator, ProvenanceRow, ReportContent, ScorecardRow

STYLESHEET = Path(__file__).with_name("report.css")
VERDICTS = ("supported", "mixed", "not_supported", "insufficient_data")
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def esc(value: object) -> str:
    """Text for HTML; None becomes an empty string."""
    return "" if value is None else html.escape(str(value))


def badge(kind: object) -> str:
    text = str(kind or "unknown")
    return f'<span class="badge {esc(text)}">{esc(text.replace("_", " "))}</span>'


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
<nav class="toc"><a href="#scorecard">Scorecard</a><a href="#predictions">Charts</a>
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
thresholds to the headline value. Each prediction's charts follow below.</p>
<div class="summary">{summary}</div>
<div class="scroll"><table>
<thead><tr><th>Id</th><th>Prediction</th><th>Verdict</th><th>Headline</th><th>Value</th><th>Evidence</th>
<th>As of</th></tr></thead>
<tbody>
{rows}
</tbody>
</table></div>
</section>"""


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _scorecard_row(row: ScorecardRow) -> str:
    anchor = row.prediction_id.lower()
    return (f'<tr data-prediction="{esc(row.prediction_id)}"><td class="id"><a href="#{esc(anchor)}">'
            f"{esc(row.prediction_id)}</a></td><td>{esc(row.title)}</td><td>{badge(row.verdict)}</td>"
            f'<td class="muted">{esc(row.headline_metric)}</td><td class="num">{_value(row.headline_value)}</td>'
            f'<td>{esc(row.evidence)}</td><td class="nowrap">{esc(row.as_of)}</td></tr>')


def _predictions_section(content: ReportContent, charts: list[Chart]) -> str:
    verdicts = {row.prediction_id: row for row in content.scorecard or []}
    articles = []
    for prediction_id in content.prediction_ids:
        row = verdicts.get(prediction_id)
        title = row.title if row else content.titles.get(prediction_id, "")
        head = (f'<div class="prediction-head"><h3>{esc(prediction_id)} · {esc(title)}</h3>'
                f"{badge(row.verdict) if row else ''}</div>")
        if row:
            head += (f'<p class="evidence">{esc(row.evidence)}</p><p class="headline">{esc(row.headline_metric)}: '
                     f"<b>{_value(row.headline_value)}</b></p>")
        body = [_indicator_block(indicator, content, charts)
                for indicator in content.indicators.get(prediction_id, [])]
        if not body:
            body = [_notice(f"No indicator table for {prediction_id} yet (marts.ind_{prediction_id.lower()}_*), "
                            "so there is nothing to chart.")]
        articles.append(f'<article class="prediction" id="{esc(prediction_id.lower())}" '
                        f'data-prediction="{esc(prediction_id)}">{head}{"".join(body)}</article>')
    if not articles:
        articles = [_notice("The warehouse holds no predictions yet; run `ai-pulse run`.")]
    return f'<section id="predictions"><h2>The predictions, chart by chart</h2>{"".join(articles)}</section>'


def _indicator_block(indicator: Indicator, content: ReportContent, charts: list[Chart]) -> str:
    parts = [f'<p class="caption">From <code>{esc(indicator.table)}</code>'
             + (f": {esc(indicator.description)}" if indicator.description else ".") + "</p>"]
    drawn = indicator_charts(indicator, content.signals.get(indicator.prediction_id, []))
    if not drawn:
        parts.append(_notice(f"{indicator.table} has no rows with a value yet (or lacks the period, signal and "
                             "value columns), so there is nothing to chart."))
    for chart in drawn:
        charts.append(chart)
        figure = chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart.chart_id,
                                      config=PLOT_CONFIG, default_height="360px")
        caption = f'<p class="caption">{esc(chart.caption)}</p>' if chart.caption else ""
        parts.append(f'<div class="chart" data-indicator="{esc(indicator.table)}"><h4>{esc(chart.title)}</h4>'
                     f"{caption}{figure}</div>")
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
    counts = Counter(row.provenance for row in content.provenance)
    summary = "".join(f'<span class="count"><b>{n}</b>{badge(kind)}</span>' for kind, n in sorted(counts.items()))
    rows = "\n".join(
        f'<tr data-provenance="{esc(r.provenance)}"><td class="nowrap">{esc(r.source)}</td><td>{esc(r.signal)}</td>'
        f"<td>{badge(r.provenance)}</td><td>{esc(r.predictions)}</td><td class=\"note\">{_origin(r)}</td></tr>"
        for r in sorted(content.provenance, key=lambda r: (r.provenance == "real", r.source, r.signal)))
    return f"""<section id="provenance">
<h2>Data provenance</h2>
{facts}
<p class="muted">Every registered series and where its data came from: <b>real</b> recordings of public data,
<b>synthetic</b> stand-ins where no public data could be had (the scorecard's evidence names any it used), or
<b>missing</b>. Non-real series are listed first; open a note for its details.</p>
<div class="summary">{summary}</div>
<div class="scroll"><table>
<thead><tr><th>Source</th><th>Series</th><th>Provenance</th><th>Predictions</th><th>Origin and note</th></tr></thead>
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
