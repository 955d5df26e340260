"""The regulatory source asks the Federal Register month by month with the contract's parameters, pages through
`next_page_url` with a hard bound, keeps only the month asked for, and merges documents found by several terms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.common import FAILED, NO_DATA, OK, Window
from ingestion.http import HttpClient, ReplayTransport, SourceError
from ingestion.regulatory import DOCUMENTS_URL, MAX_PAGES, fetch_documents, month_windows, regulatory_source
from ingestion.snapshots.bodies import fr_body, fr_document
from ingestion.snapshots.builder.factory import SnapshotBuilder
from tests.conftest import SpyingReplay, load_source, query

D = dt.date
TERM = "artificial intelligence"
ANY_MONTH = {"conditions[term]": TERM}
JAN_FEB = Window(D(2024, 1, 1), D(2024, 2, 29))


@pytest.fixture
def snap(tmp_path: Path) -> SnapshotBuilder:
    return SnapshotBuilder(tmp_path / "snap", D(2024, 2, 29))


def client_for(snap: SnapshotBuilder) -> tuple[HttpClient, SpyingReplay]:
    snap.write()
    spy = SpyingReplay(snap.root)
    return HttpClient(spy, user_agent="t"), spy


def test_windows_are_split_into_calendar_months_clipped_to_the_window() -> None:
    assert month_windows(Window(D(2024, 1, 15), D(2024, 3, 2))) == [
        Window(D(2024, 1, 15), D(2024, 1, 31)), Window(D(2024, 2, 1), D(2024, 2, 29)),
        Window(D(2024, 3, 1), D(2024, 3, 2))]


def test_each_month_is_asked_with_the_contracts_parameters_and_only_its_documents_are_kept(
        snap: SnapshotBuilder) -> None:
    # Like the bundled snapshot: one response holding every document of the term, whatever the month.
    docs = [fr_document("2023-1", D(2023, 12, 30)), fr_document("2024-1", D(2024, 1, 10)),
            fr_document("2024-2", D(2024, 2, 20)), fr_document("2024-3", D(2024, 3, 1))]
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, body=fr_body(docs))
    client, spy = client_for(snap)
    fetched = fetch_documents(client, TERM, JAN_FEB)
    assert [p for _, p, _ in spy.sent] == [
        {"conditions[term]": TERM, "conditions[publication_date][gte]": "2024-01-01",
         "conditions[publication_date][lte]": "2024-01-31", "per_page": "100", "page": "1", "order": "oldest"},
        {"conditions[term]": TERM, "conditions[publication_date][gte]": "2024-02-01",
         "conditions[publication_date][lte]": "2024-02-29", "per_page": "100", "page": "1", "order": "oldest"}]
    assert [r["document_number"] for r in fetched.tables["documents"]] == ["2024-1", "2024-2"]
    assert fetched.tables["documents"][0] | {"abstract": None} == {
        "document_number": "2024-1", "source": "federal_register", "publication_date": D(2024, 1, 10),
        "title": "A notice", "doc_type": "Notice", "abstract": None,
        "html_url": "https://www.federalregister.gov/d/2024-1", "agencies": "Commerce Department"}


def test_pages_are_followed_through_next_page_url(snap: SnapshotBuilder) -> None:
    page2 = f"{DOCUMENTS_URL}?conditions%5Bterm%5D=artificial+intelligence&page=2"
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH | {"page": "1"},
                  body=fr_body([fr_document("2024-1", D(2024, 1, 10))], next_page_url=page2))
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH | {"page": "2"},
                  body=fr_body([fr_document("2024-2", D(2024, 1, 11))]))
    client, spy = client_for(snap)
    fetched = fetch_documents(client, TERM, Window(D(2024, 1, 1), D(2024, 1, 31)))
    assert [r["document_number"] for r in fetched.tables["documents"]] == ["2024-1", "2024-2"]
    assert spy.sent[1][0] == page2


def test_a_next_page_url_that_repeats_is_a_clear_error_naming_term_and_month(snap: SnapshotBuilder) -> None:
    loop = f"{DOCUMENTS_URL}?conditions%5Bterm%5D=artificial+intelligence&page=2"
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH,
                  body=fr_body([fr_document("2024-1", D(2024, 1, 10))], next_page_url=loop))
    with pytest.raises(SourceError, match=r"\[regulatory artificial intelligence\] pagination for 2024-01 loops"):
        fetch_documents(client_for(snap)[0], TERM, JAN_FEB)


def test_endless_pages_stop_at_the_bound_with_a_clear_error(snap: SnapshotBuilder) -> None:
    for page in range(1, MAX_PAGES + 2):
        following = f"{DOCUMENTS_URL}?conditions%5Bterm%5D=artificial+intelligence&page={page + 1}"
        snap.exchange(DOCUMENTS_URL, params=ANY_MONTH | {"page": str(page)},
                      body=fr_body([fr_document(f"2024-{page}", D(2024, 1, 10))], next_page_url=following))
    client, spy = client_for(snap)
    with pytest.raises(SourceError, match=rf"pagination for 2024-01 did not end after {MAX_PAGES} pages"):
        fetch_documents(client, TERM, JAN_FEB)
    assert len(spy.sent) == MAX_PAGES


@pytest.mark.parametrize("reply", [{"body": {"count": 0, "total_pages": 0, "description": "none"}},
                                   {"status": 404, "body": {"status": 404, "message": "not found"}}],
                         ids=["count_0", "404"])
def test_an_empty_result_set_is_no_data(snap: SnapshotBuilder, reply: dict) -> None:
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, **reply)
    fetched = fetch_documents(client_for(snap)[0], TERM, JAN_FEB)
    assert (fetched.status, fetched.tables["documents"]) == (NO_DATA, [])
    assert "no documents between 2024-01-01 and 2024-02-29" in fetched.detail


def test_a_429_then_200_waits_as_told_and_loads(snap: SnapshotBuilder) -> None:
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, status=429, body={}, headers={"Retry-After": "4"}, order=1)
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, body=fr_body([fr_document("2024-1", D(2024, 1, 10))]), order=2)
    client, spy = client_for(snap)
    fetched = fetch_documents(client, TERM, Window(D(2024, 1, 1), D(2024, 1, 31)))
    assert fetched.status == OK and spy.replay.waits == [4.0]


def test_truncated_json_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, text='{"count": 3, "results": [{"document_numb')
    with pytest.raises(SourceError, match=r"\[regulatory artificial intelligence\] HTTP 200 body is not valid JSON"):
        fetch_documents(client_for(snap)[0], TERM, JAN_FEB)


def test_a_missing_field_fails_the_term_naming_the_field(snap: SnapshotBuilder) -> None:
    document = fr_document("2024-1", D(2024, 1, 10))
    del document["publication_date"]
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, body=fr_body([document]))
    with pytest.raises(SourceError, match=r"results\[0\] lacks required field\(s\) publication_date"):
        fetch_documents(client_for(snap)[0], TERM, JAN_FEB)


def test_a_new_field_is_reported_and_documents_still_load(snap: SnapshotBuilder) -> None:
    body = fr_body([fr_document("2024-1", D(2024, 1, 10)) | {"ai_summary": "..."}]) | {"facets": {}}
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, body=body)
    fetched = fetch_documents(client_for(snap)[0], TERM, JAN_FEB)
    assert fetched.status == OK
    assert "new field(s) in the body: facets" in fetched.detail
    assert "new field(s) in results[0]: ai_summary" in fetched.detail


def test_more_results_than_the_api_window_is_a_clear_error(snap: SnapshotBuilder) -> None:
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, body={"count": 5000, "total_pages": 50, "results": []})
    with pytest.raises(SourceError, match=r"5000 documents in 2024-01, more than the API's 2000-result window"):
        fetch_documents(client_for(snap)[0], TERM, JAN_FEB)


def test_a_document_found_by_two_terms_is_one_row_and_a_failing_term_fails_alone(
        tmp_path: Path, snap: SnapshotBuilder) -> None:
    shared = fr_document("2024-1", D(2024, 1, 10))
    snap.exchange(DOCUMENTS_URL, params=ANY_MONTH, body=fr_body([shared, fr_document("2024-2", D(2024, 2, 2))]))
    snap.exchange(DOCUMENTS_URL, params={"conditions[term]": "digital identity"}, body=fr_body([shared]))
    snap.exchange(DOCUMENTS_URL, params={"conditions[term]": "broken"}, status=500, body={"errors": ["boom"]})
    snap.write()
    client = HttpClient(ReplayTransport(snap.root), user_agent="t")
    source = regulatory_source([TERM, "digital identity", "broken"], client=client, start_date=D(2024, 1, 1),
                               today=D(2024, 2, 29), lookback_days=7)
    warehouse = load_source(source, tmp_path / "w.duckdb")
    assert query(warehouse, "select document_number from raw_regulatory.documents order by 1") == [
        ("2024-1",), ("2024-2",)]
    assert query(warehouse, "select document_number, term from raw_regulatory.document_terms order by 1, 2") == [
        ("2024-1", TERM), ("2024-1", "digital identity"), ("2024-2", TERM)]
    status = dict(query(warehouse, "select signal, status from raw_regulatory.signal_status"))
    assert status == {TERM: OK, "digital identity": OK, "broken": FAILED}
