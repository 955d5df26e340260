"""The control room in a real browser: after one pipeline run, `ai-pulse ui` serves the Dagster UI on 127.0.0.1,
headless Debian chromium (driven by Playwright) opens the global asset lineage and finds every source, the dbt
models and the scorecard drawn and connected, with their latest materializations and checks. Ctrl-C then stops
the webserver and the daemon. The documents server beside it opens from the assets' links: a check's GX Data
Docs, a model's page in the dbt docs, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import PROJECT_ROOT, BundledRun, free_port, query, running_ui

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# The UI fills in each asset's status after the page has loaded; on a busy machine (the suite runs pipelines on
# every core meanwhile) that takes longer than Playwright's 5 s default for an assertion.
expect.set_options(timeout=30_000)
SCORECARD = "marts/prediction_scorecard"
CORE_FACT = "core/fct_stock_daily"

ASSET_GRAPH_QUERY = """
{ assetNodes {
    assetKey { path } groupName dependencyKeys { path }
    internalFreshnessPolicy { __typename ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
    assetMaterializations(limit: 1) { runId metadataEntries { label ... on IntMetadataEntry { intValue }
        ... on FloatMetadataEntry { floatValue floatRepr } ... on TextMetadataEntry { text } } }
    assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } }
} }
"""

INSTANCE_QUERY = "{ instance { poolConfig { defaultPoolLimit } runQueueConfig { maxConcurrentRuns } } }"


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention `text` (the Dagster processes carry their DAGSTER_HOME)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command[:200])
    return found


def listening_addresses(port: int) -> set[str]:
    """The local addresses that listen on `port`, from the kernel's socket tables (IPv4 and IPv6, hex)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def skip_first_visit_dialog(page: Page) -> None:
    """Dagster greets a new instance with a community dialog; its Skip button closes it for good."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=15_000)
    except PlaywrightTimeout:
        return
    skip.click()
    skip.wait_for(state="hidden")


def follow_link(page: Page, href: str) -> Page:
    """Click the asset page's link to `href` as a person does; Dagster opens metadata links in a new tab."""
    link = page.locator(f'a[href="{href}"]').first
    expect(link).to_be_visible()
    with page.context.expect_page() as opened:
        link.click()
    document = opened.value
    document.wait_for_load_state("load")
    assert document.url == href
    return document


def check_documents_open_from_the_asset_pages(page: Page, url: str, docs: str, warehouse: Path) -> None:
    """From a check's latest result to the GX Data Docs listing its suite; from a model to its dbt docs page,
    which shows the model's description and columns; from the report asset to the report, which shows every
    prediction."""
    page.goto(f"{url}/assets/raw_stocks/prices?view=checks", wait_until="load")
    expect(page.get_by_text("gx_stock_prices").first).to_be_visible()
    data_docs = follow_link(page, f"{docs}/data-docs/expectations/stock_prices.html")
    expect(data_docs.get_by_text("Expectations / stock_prices")).to_be_visible()
    expect(data_docs.get_by_text("values must never be null.").first).to_be_visible()
    data_docs.screenshot(path=str(ARTIFACTS / "data_docs.png"))
    data_docs.close()

    unique_id = f"model.ai_pulse.{CORE_FACT.split('/')[1]}"
    node = json.loads((warehouse.parent / "dbt_docs" / "manifest.json").read_text(encoding="utf-8"))["nodes"][
        unique_id]
    page.goto(f"{url}/assets/{CORE_FACT}", wait_until="load")
    dbt_docs = follow_link(page, f"{docs}/dbt-docs/index.html#!/model/{unique_id}")
    description = node["description"].split(".")[0]
    expect(dbt_docs.get_by_text(description).first).to_be_visible()
    for column in ("ticker", "trade_date", "close"):
        expect(dbt_docs.get_by_text(column, exact=True).first).to_be_visible()
    dbt_docs.screenshot(path=str(ARTIFACTS / "dbt_docs_model.png"))
    dbt_docs.close()

    page.goto(f"{url}/assets/reports/scorecard_html", wait_until="load")
    report = follow_link(page, f"{docs}/report/{warehouse.stem}_report.html")
    for (prediction_id,) in query(warehouse, "select prediction_id from marts.prediction_scorecard"):
        expect(report.locator("body")).to_contain_text(prediction_id)
    report.screenshot(path=str(ARTIFACTS / "report_served.png"))
    report.close()


def ancestors(deps: dict[str, list[str]], key: str) -> set[str]:
    seen: set[str] = set()
    todo = [key]
    while todo:
        for parent in deps.get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


@pytest.mark.slow
@pytest.mark.browser
def test_ui_shows_every_source_connected_to_the_scorecard_with_materializations(
        bundled_run: BundledRun, tmp_path: Path) -> None:
    from orchestration.defs.ingest import SOURCES

    assert CHROMIUM.exists(), "Debian chromium is missing: `make test-setup` installs it (apt-get install chromium)"
    pulse_env = bundled_run.env  # the UI shows the instance and warehouse of the shared `ai-pulse run`
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    docs = pulse_env["AI_PULSE_DOCS_URL"]  # where the shared run linked its documents
    docs_port = urlsplit(docs).port
    assert docs_port is not None
    with running_ui(pulse_env, port, tmp_path / "ui.log", "--docs-port", str(docs_port)) as (url, process), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 2200, "height": 1400})
        page.set_default_timeout(90_000)  # navigations too, on a machine busy with other tests' pipelines
        # Reachable from this machine only: the webserver listens on 127.0.0.1 (0100007F), nowhere else.
        assert listening_addresses(port) == listening_addresses(docs_port) == {"0100007F"}
        # Navigations wait for the page and then for what it draws: the UI keeps polling, so the network never
        # goes quiet for long on a busy machine.
        page.goto(f"{url}/asset-groups", wait_until="load")
        skip_first_visit_dialog(page)
        expect(page.get_by_text("Global asset lineage").first).to_be_visible()

        # The asset graph the lineage page draws, from the same GraphQL endpoint, through the browser.
        response = page.request.post(f"{url}/graphql", data={"query": ASSET_GRAPH_QUERY})
        assert response.ok, response.text()
        nodes: list[dict[str, Any]] = response.json()["data"]["assetNodes"]
        by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
        deps = {key: ["/".join(d["path"]) for d in n["dependencyKeys"]] for key, n in by_key.items()}
        groups = {key: n["groupName"] for key, n in by_key.items()}
        upstream_of_scorecard = ancestors(deps, SCORECARD)
        assert {CORE_FACT, SCORECARD} <= by_key.keys()
        assert CORE_FACT in upstream_of_scorecard
        for source in SOURCES:
            keys = {k for k, g in groups.items() if g == source}
            assert keys, f"no asset of source {source} in the UI"
            assert keys & upstream_of_scorecard, f"source {source} is not connected to {SCORECARD}"
            for key in keys:
                policy = by_key[key]["internalFreshnessPolicy"]
                assert policy and policy["failWindowSeconds"] == 36 * 3600, f"{key} has no 36 h freshness policy"
        missing = [k for k, n in by_key.items() if not n["assetMaterializations"]]
        assert missing == [], f"assets without a materialization after `ai-pulse run`: {missing}"
        scorecard_rows = {e["label"]: e.get("intValue") for e in
                          by_key[SCORECARD]["assetMaterializations"][0]["metadataEntries"]}["dagster/row_count"]
        warehouse = pulse_env["AI_PULSE_WAREHOUSE"]
        assert scorecard_rows == query(warehouse, "select count(*) from marts.prediction_scorecard")[0][0] == 15
        # Each indicator's latest materialization carries its prediction's headline value as a number the UI plots
        # across runs (NaN, shown as an empty point, when there is none), and its verdict.
        scorecard = {pid: (value, verdict) for pid, value, verdict in query(
            warehouse, "select prediction_id, headline_value, verdict from marts.prediction_scorecard")}
        indicators = {key: {e["label"]: e for e in n["assetMaterializations"][0]["metadataEntries"]}
                      for key, n in by_key.items() if key.startswith("marts/ind_p")}
        assert len(indicators) == len(scorecard)
        for key, entries in indicators.items():
            value, verdict = scorecard[entries["prediction_id"]["text"]]
            assert entries["headline_value"]["floatValue"] == value, key
            assert entries["headline_value"]["floatRepr"] == ("nan" if value is None else str(value)), key
            assert entries["verdict"]["text"] == verdict, key
        checks = [(k, c) for k, n in by_key.items() for c in n["assetChecksOrError"]["checks"]]
        assert any(c["name"].startswith("gx_") for _, c in checks), "no Great Expectations check in the UI"
        not_passed = [(k, c["name"]) for k, c in checks
                      if (c["executionForLatestMaterialization"] or {}).get("status") != "SUCCEEDED"]
        assert not_passed == [], f"checks without a passing latest run: {not_passed}"

        # The webserver and daemon run on the project's instance settings: one run, one warehouse writer at a time.
        instance = page.request.post(f"{url}/graphql", data={"query": INSTANCE_QUERY}).json()["data"]["instance"]
        assert instance["poolConfig"]["defaultPoolLimit"] == 1
        assert instance["runQueueConfig"]["maxConcurrentRuns"] == 1

        # What the page draws: every group (all sources, each dbt layer) and the edges between them.
        graph = page.locator("svg:has(foreignObject)").first
        for group in sorted(set(groups.values())):
            expect(graph.locator(f'foreignObject [data-tooltip="{group}"]').first).to_be_visible()
        group_edges = {(groups[p], groups[c]) for c, ps in deps.items() for p in ps if groups[p] != groups[c]}
        assert graph.locator("path").count() >= len(group_edges) > 0
        expect(page.get_by_text("(fetching statuses)")).to_have_count(0, timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "asset_lineage_groups.png"))

        # Each source, the core fact and the scorecard, opened as the lineage page's own links do (groups
        # expanded, the asset selected and centred): drawn with their latest materialization and edges, their
        # checks passed where they have any.
        expanded = urlencode({"expanded": ",".join(f"global@global:{g}" for g in sorted(set(groups.values())))})
        names = [key.split("/")[-1] for key in by_key]
        targets = [next(k for k in sorted(by_key) if groups[k] == source and names.count(k.split("/")[-1]) == 1)
                   for source in SOURCES] + [CORE_FACT, SCORECARD]
        for key in targets:
            name = key.split("/")[-1]
            page.goto(f"{url}/asset-groups/{quote(key, safe='')}?{expanded}", wait_until="load")
            node = graph.locator("foreignObject").filter(has=page.locator(f'text="{name}"')).first
            expect(node).to_contain_text("Materialized")
            if by_key[key]["assetChecksOrError"]["checks"]:
                expect(node).to_contain_text("Passed")
            expect(page.get_by_text(f"{key.split('/')[0]} / {name}")).to_be_visible()  # the side panel
            assert graph.locator("path").count() > 0, f"{key} is drawn without edges"
            page.screenshot(path=str(ARTIFACTS / f"asset_{key.replace('/', '__')}.png"))

        check_documents_open_from_the_asset_pages(page, url, docs, bundled_run.warehouse)

        # The whole graph, every group expanded, for the record.
        page.goto(f"{url}/asset-groups", wait_until="load")
        expect(graph.locator("foreignObject").first).to_be_visible()
        page.keyboard.press("Alt+e")
        for _ in range(4):
            page.get_by_role("img", name="zoom_out").click()
        # Laying out every group expanded takes seconds on a busy machine: wait for the nodes' names.
        expect(graph.locator("[class*=AssetNode_assetName]").first).to_be_attached()
        page.screenshot(path=str(ARTIFACTS / "asset_lineage.png"))

        browser.close()

    assert process.returncode == 0
    assert "Dagster services shut down." in (tmp_path / "ui.log").read_text()
    assert processes_mentioning(pulse_env["DAGSTER_HOME"]) == [], "a Dagster process outlived Ctrl-C"
    assert listening_addresses(docs_port) == set(), "the documents server outlived Ctrl-C"
    network_log = Path(pulse_env["AI_PULSE_NETWORK_LOG"])
    assert not network_log.exists() or network_log.read_text() == "", network_log.read_text()
