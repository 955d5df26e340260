"""Regulatory news: Federal Register documents per registered search term → `raw_regulatory.documents` (one row
per document, merged on document_number) and `raw_regulatory.document_terms` (which terms matched it).

Each term is asked month by month, so no query comes near the API's result window (searches are reported to stop
at 2,000 results), and every month is paged through `next_page_url` with a hard bound.

The paging is written here rather than with dlt's RESTClient and JSONLinkPaginator: both work on a
`requests.Session` and its `requests.Response` (dlt/sources/helpers/rest_client/client.py sends through
`session.send`, paginators read `response.json()`), while every source asks through the one HttpClient, whose
transport is live or replay and which keeps the retry, the rate budgets and the recording in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dlt

from ingestion.common import (
    NO_DATA,
    OK,
    Fetched,
    Table,
    Window,
    fetch_each,
    require_fields,
    table_resources,
    unexpected_shape,
)
from ingestion.http import HttpClient, SourceError, json_body

SOURCE = "regulatory"
DATASET = "documents"
BACKEND = "federal_register"
SITE = "https://www.federalregister.gov"  # documents link to pages here: /d/<number>, /documents/…, /agencies/…
DOCUMENTS_URL = f"{SITE}/api/v1/documents.json"
PER_PAGE = 100
RESULT_WINDOW = 2000  # the most results one search pages through
MAX_PAGES = RESULT_WINDOW // PER_PAGE
FIX_TERM = "check the search term in registry.yml (signals.regulatory) on federalregister.gov"

BODY_KNOWN = ("total_pages", "next_page_url", "previous_page_url", "description", "results")
DOCUMENT_FIELDS = ("document_number", "title", "type", "publication_date", "html_url", "agencies")
DOCUMENT_KNOWN = ("abstract", "action", "dates", "excerpts", "pdf_url", "public_inspection_pdf_url", "json_url",
                  "raw_text_url", "full_text_xml_url", "body_html_url", "slug", "citation", "start_page", "end_page")

DOCUMENT_COLUMNS: dict[str, Any] = {
    "document_number": {"data_type": "text", "nullable": False},
    "source": {"data_type": "text", "nullable": False},
    "publication_date": {"data_type": "date", "nullable": False},
    "title": {"data_type": "text"},
    "doc_type": {"data_type": "text"},
    "abstract": {"data_type": "text"},
    "html_url": {"data_type": "text"},
    "agencies": {"data_type": "text"},
}
TERM_COLUMNS: dict[str, Any] = {
    "document_number": {"data_type": "text", "nullable": False},
    "term": {"data_type": "text", "nullable": False},
    "publication_date": {"data_type": "date", "nullable": False},
}


def month_windows(window: Window) -> list[Window]:
    """Calendar months covering the window, clipped to it."""
    months, start = [], window.start
    while start <= window.end:
        next_month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        months.append(Window(start, min(window.end, next_month - dt.timedelta(days=1))))
        start = next_month
    return months


def search_params(term: str, month: Window) -> dict[str, str]:
    """The first page of one term's documents published in one month, oldest first."""
    return {"conditions[term]": term, "conditions[publication_date][gte]": month.start.isoformat(),
            "conditions[publication_date][lte]": month.end.isoformat(), "per_page": str(PER_PAGE), "page": "1",
            "order": "oldest"}


def parse_document(term: str, item: Any, index: int) -> tuple[dict[str, Any], str]:
    """One result as a documents row; returns the row and a note on new fields."""
    note = require_fields(item, DOCUMENT_FIELDS, source=SOURCE, signal=term, where=f"results[{index}]",
                          known=DOCUMENT_KNOWN)
    agencies = [a.get("name") or a.get("raw_name") for a in item["agencies"] or [] if isinstance(a, dict)]
    row = {"document_number": str(item["document_number"]), "source": BACKEND,
           "publication_date": dt.date.fromisoformat(str(item["publication_date"])), "title": item["title"],
           "doc_type": item["type"], "abstract": item.get("abstract"), "html_url": item["html_url"],
           "agencies": "; ".join(a for a in agencies if a) or None}
    return row, note


def fetch_month(client: HttpClient, term: str, month: Window) -> tuple[list[dict[str, Any]], list[str]]:
    """Every document of one term published in one month, following `next_page_url` at most MAX_PAGES times.
    A URL served twice or too many pages is a SourceError naming the term and the month."""
    label = f"{month.start:%Y-%m}"
    url, params = DOCUMENTS_URL, search_params(term, month)
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for _page in range(MAX_PAGES):
        reply = client.get(url, source=SOURCE, signal=term, params=params)
        if reply.status == 404:
            return rows, notes  # the API answers a search without matches with 404
        body = json_body(reply, source=SOURCE, signal=term)
        if reply.status != 200:
            errors = body.get("errors") or body.get("message") if isinstance(body, dict) else None
            raise SourceError(SOURCE, term, f"Federal Register HTTP {reply.status} for {label}: "
                                            f"{errors or 'no message'}", FIX_TERM)
        with unexpected_shape(SOURCE, term):
            notes.append(require_fields(body, ("count",), source=SOURCE, signal=term, where="the body",
                                        known=BODY_KNOWN))
            if int(body["count"]) > RESULT_WINDOW:
                raise SourceError(SOURCE, term, f"{body['count']} documents in {label}, more than the API's "
                                                f"{RESULT_WINDOW}-result window", "search a narrower term")
            if int(body["count"]) > 0 and "results" not in body:
                raise SourceError(SOURCE, term, f"the body for {label} counts {body['count']} documents but has "
                                                "no results", "the API format changed; update ingestion/regulatory.py")
            for index, item in enumerate(body.get("results") or []):
                row, note = parse_document(term, item, index)
                notes.append(note)
                # A served page may hold other months: only the month asked for is kept.
                if row["publication_date"] in month:
                    rows.append(row)
        next_url = body.get("next_page_url")
        if not next_url:
            return rows, notes
        if next_url in seen:
            raise SourceError(SOURCE, term, f"pagination for {label} loops: next_page_url {next_url} was already "
                                            "fetched", "the API's paging is broken; the next run retries")
        seen.add(next_url)
        url, params = next_url, {}
    raise SourceError(SOURCE, term, f"pagination for {label} did not end after {MAX_PAGES} pages",
                      "the API's paging is broken or the term matches too much; the next run retries")


def fetch_documents(client: HttpClient, term: str, window: Window) -> Fetched:
    """A term's documents in its window, month by month; documents are unique within the result."""
    documents: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for month in month_windows(window):
        rows, month_notes = fetch_month(client, term, month)
        documents.update((row["document_number"], row) for row in rows)
        notes += [n for n in month_notes if n and n not in notes]
    ordered = sorted(documents.values(), key=lambda r: (r["publication_date"], r["document_number"]))
    matches = [{"document_number": r["document_number"], "term": term, "publication_date": r["publication_date"]}
               for r in ordered]
    status, detail = (OK, "") if ordered else (NO_DATA, f"no documents between {window.start} and {window.end}")
    fetched = Fetched(SOURCE, term, window, status, detail, tables={"documents": ordered, "document_terms": matches})
    return fetched.note(*notes)


@dlt.source(name=SOURCE, max_table_nesting=0)
def regulatory_source(
    terms: list[str],
    client: HttpClient | None = None,
    start_date: dt.date = dt.date(2022, 1, 1),
    today: dt.date | None = None,
    lookback_days: int = 7,
) -> Any:
    """Federal Register documents for every registered term, merged on document_number."""

    @dlt.resource(name="document_fetches", selected=False)
    def document_fetches() -> Iterator[Fetched]:
        if client is None or today is None:
            raise RuntimeError("regulatory_source needs a client and today's date to run")
        yield from fetch_each(SOURCE, terms, lambda t, w: fetch_documents(client, t, w), start_date, today,
                              lookback_days, "document_terms", "publication_date", DATASET)

    return table_resources(document_fetches, [
        Table("documents", "document_number", DOCUMENT_COLUMNS,
              "One row per Federal Register document (a document found by several terms appears once).",
              once_by="document_number"),
        Table("document_terms", ("document_number", "term"), TERM_COLUMNS,
              "Which registered terms matched each document, with its publication date."),
    ], "The last fetch outcome per term: ok, no_data or failed, with the problem and the fix.")
