"""The report as the last asset of the graph: rebuilt whenever the scorecard or an indicator is."""

from collections.abc import Iterable

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from orchestration.defs.resources import PulseResource
from orchestration.lib.docs_site import docs_link
from orchestration.report import write_report
from orchestration.report.content import INDICATOR_TABLE

REPORT_KEY = AssetKey(["reports", "scorecard_html"])
SCORECARD_KEY = AssetKey(["marts", "prediction_scorecard"])


def report_inputs(keys: Iterable[AssetKey]) -> list[AssetKey]:
    """The scorecard and every indicator (`marts/ind_pNN_*`) among the given asset keys, e.g. the dbt assets'."""
    return sorted((key for key in keys if key == SCORECARD_KEY
                   or (len(key.path) == 2 and key.path[0] == "marts" and INDICATOR_TABLE.match(key.path[1]))),
                  key=lambda key: key.to_user_string())


def build_report_asset(upstream: Iterable[AssetKey]) -> AssetsDefinition:
    """`reports/scorecard_html`, depending on the scorecard and indicator assets found in `upstream`."""

    @asset(key=REPORT_KEY, group_name="reports", deps=report_inputs(upstream), kinds={"html", "plotly"},
           owners=["team:ai-pulse"], pool="duckdb_warehouse",
           description="One self-contained HTML page: the scorecard, each prediction's charts, data provenance "
                       "and the last quality results, written beside the warehouse.")
    def scorecard_html(context: AssetExecutionContext, pulse: PulseResource) -> MaterializeResult:
        settings = pulse.settings
        written = write_report(settings.warehouse, database=settings.database)
        for notice in written.notices:
            context.log.warning(notice)
        return MaterializeResult(metadata={
            "path": MetadataValue.path(str(written.path)),
            "report": docs_link(pulse.settings.warehouse, written.path),
            "predictions": written.predictions,
            "charts": written.charts,
            "indicator_tables": written.indicator_tables,
            "size_mb": round(written.size_bytes / 1e6, 2),
        })

    return scorecard_html
