"""The documents server `ai-pulse ui` runs: it serves the report, the GX Data Docs and the dbt docs of one
warehouse, read-only, and nothing outside their folders; and the links asset metadata carries to them."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest
from dagster import MetadataValue

from orchestration.lib.docs_site import DOCS_URL_ENV, dbt_docs_link, docs_link, serving_docs, sites


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse folder holding one document per site, a secret beside them and a symlink pointing at it."""
    folder = tmp_path / "warehouse"
    roots = sites(folder / "ai_pulse.duckdb")
    for prefix, root in roots.items():
        root.mkdir(parents=True)
        (root / "index.html").write_text(f"<h1>{prefix} index</h1>")
    (roots["report"] / "ai_pulse_report.html").write_text("<h1>P01 report</h1>")
    (roots["dbt-docs"] / "sub").mkdir()
    (folder / "ai_pulse.duckdb").write_text("the warehouse itself")
    (tmp_path / "secret.txt").write_text("not a document")
    (roots["report"] / "escape.html").symlink_to(tmp_path / "secret.txt")
    return folder / "ai_pulse.duckdb"


def request(base: str, path: str, method: str = "GET") -> tuple[int, str]:
    """A raw request (the path sent exactly as given, unlike a browser or urllib, which tidy `..` away)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def test_serves_each_sites_documents_on_127_0_0_1(warehouse: Path) -> None:
    with serving_docs(warehouse, "127.0.0.1", 0) as base:
        assert base.startswith("http://127.0.0.1:")
        assert request(base, "/report/ai_pulse_report.html") == (200, "<h1>P01 report</h1>")
        assert request(base, "/data-docs/index.html") == (200, "<h1>data-docs index</h1>")
        assert request(base, "/dbt-docs/") == (200, "<h1>dbt-docs index</h1>")
        assert request(base, "/dbt-docs/index.html?x=1#!/model/model.ai_pulse.x")[0] == 200
        status, landing = request(base, "/")
        assert status == 200 and all(f'href="/{prefix}/"' in landing for prefix in sites(warehouse))


@pytest.mark.parametrize("path", [
    "/report/../ai_pulse.duckdb", "/report/%2e%2e/ai_pulse.duckdb", "/report/..%2f..%2fsecret.txt",
    "/data-docs/../../secret.txt", "/../secret.txt", "/ai_pulse.duckdb", "/dbt_target/manifest.json",
    "/report/escape.html", "/dbt-docs/sub/", "/report//etc/passwd", "/report/%00",
])
def test_refuses_everything_outside_the_served_folders_and_directory_listings(warehouse: Path, path: str) -> None:
    with serving_docs(warehouse, "127.0.0.1", 0) as base:
        status, body = request(base, path)
    assert status == 404, (path, status, body)
    assert "the warehouse itself" not in body and "not a document" not in body


def test_is_read_only(warehouse: Path) -> None:
    with serving_docs(warehouse, "127.0.0.1", 0) as base:
        for method in ("POST", "PUT", "DELETE"):
            assert request(base, "/report/ai_pulse_report.html", method)[0] == 501
    assert (sites(warehouse)["report"] / "ai_pulse_report.html").read_text() == "<h1>P01 report</h1>"


def test_links_are_http_urls_under_the_docs_base_url(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DOCS_URL_ENV, "http://127.0.0.1:3001/")
    report = sites(warehouse)["report"] / "ai_pulse_report.html"
    assert docs_link(warehouse, report) == MetadataValue.url("http://127.0.0.1:3001/report/ai_pulse_report.html")
    assert dbt_docs_link(warehouse, "model.ai_pulse.fct_stock_daily") == MetadataValue.url(
        "http://127.0.0.1:3001/dbt-docs/index.html#!/model/model.ai_pulse.fct_stock_daily")


def test_without_a_docs_server_a_link_is_the_documents_path(warehouse: Path, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    report = sites(warehouse)["report"] / "ai_pulse_report.html"
    monkeypatch.delenv(DOCS_URL_ENV, raising=False)
    assert docs_link(warehouse, report) == MetadataValue.path(str(report))
    monkeypatch.setenv(DOCS_URL_ENV, "127.0.0.1:3001")
    assert docs_link(warehouse, report) == MetadataValue.path(str(report))
    assert f"{DOCS_URL_ENV}='127.0.0.1:3001' is not an http(s) URL" in caplog.text
    # A document outside the served folders is never given a URL.
    monkeypatch.setenv(DOCS_URL_ENV, "http://127.0.0.1:3001")
    outside = warehouse.parent / "ai_pulse.duckdb"
    assert docs_link(warehouse, outside) == MetadataValue.path(str(outside))
