"""The documents each run writes beside the warehouse (the HTML report, the GX Data Docs, the dbt docs), how
asset metadata links to them, and the read-only web server `ai-pulse ui` serves them with.

A browser refuses a `file://` link from the Dagster UI's http page, so the links are http URLs under one base,
`AI_PULSE_DOCS_URL` (`ai-pulse ui` sets it for the runs it starts, to the docs server it runs on 127.0.0.1):
`<base>/report/…`, `<base>/data-docs/…`, `<base>/dbt-docs/…`. Without it (a plain `ai-pulse run`), a link is the
document's path, which a person can copy and open, never a link that cannot open.
"""

from __future__ import annotations

import html
import io
import logging
import posixpath
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from dagster import MetadataValue

from orchestration.lib.alerts import http_base_url
from orchestration.lib.settings import Warehouse

DOCS_URL_ENV = "AI_PULSE_DOCS_URL"
log = logging.getLogger("ai_pulse.docs")


def dbt_docs_dir(warehouse: Warehouse) -> Path:
    """The dbt docs site (index.html, manifest.json, catalog.json) of one warehouse."""
    return warehouse.parent / "dbt_docs"


def sites(warehouse: Warehouse) -> dict[str, Path]:
    """Each served site's URL prefix and the folder it serves. The GX folder is where a file-backed GX context
    under `<warehouse dir>/quality` renders its local site (expectations/runner.py)."""
    folder = warehouse.parent
    return {
        "report": folder / "report",
        "data-docs": folder / "quality" / "gx" / "uncommitted" / "data_docs" / "local_site",
        "dbt-docs": dbt_docs_dir(warehouse),
    }


def docs_base_url() -> str | None:
    """`AI_PULSE_DOCS_URL` without its trailing slash; None when unset or not an http(s) URL (warned about)."""
    return http_base_url(DOCS_URL_ENV, "links to the report and docs are paths", "http://127.0.0.1:3001")


def docs_url(warehouse: Warehouse, document: Path, fragment: str = "") -> str | None:
    """The http URL of a document under one of the served sites, or None without a docs base URL."""
    base = docs_base_url()
    for prefix, root in sites(warehouse).items():
        if base and document.is_relative_to(root):
            return f"{base}/{prefix}/{quote(document.relative_to(root).as_posix())}{fragment}"
    return None


def docs_link(warehouse: Warehouse, document: Path, fragment: str = "") -> Any:
    """Metadata that opens `document` from the Dagster UI: its URL when the docs are served, else its path."""
    url = docs_url(warehouse, document, fragment)
    return MetadataValue.url(url) if url else MetadataValue.path(str(document))


def dbt_docs_link(warehouse: Warehouse, unique_id: str) -> Any:
    """A dbt node's page in the dbt docs (`#!/model/model.ai_pulse.<name>`)."""
    kind = unique_id.split(".", 1)[0]
    return docs_link(warehouse, dbt_docs_dir(warehouse) / "index.html", f"#!/{kind}/{unique_id}")


class DocsHandler(SimpleHTTPRequestHandler):
    """GET and HEAD of files under the served sites, nothing else: no directory listings, no path outside a
    site's folder (`..`, encoded or not, and symlinks pointing out are refused with 404), no writes (the
    stdlib handler answers 501 to every other method)."""

    def __init__(self, *args: Any, roots: dict[str, Path], **kwargs: Any) -> None:
        self.roots = roots
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        """The file a URL path names (`/<site>/<path in its folder>`), or "" for anything else."""
        route = posixpath.normpath(unquote(urlsplit(path).path))
        prefix, _, rest = route.lstrip("/").partition("/")
        root = self.roots.get(prefix)
        if root is None:
            return ""
        try:
            target = (root / rest).resolve()
        except (OSError, ValueError):  # a NUL byte, a symlink loop
            return ""
        return str(target) if target.is_relative_to(root.resolve()) else ""

    def send_head(self) -> Any:
        if urlsplit(self.path).path == "/":
            return self._landing_page()
        if not self.translate_path(self.path):
            self.send_error(404, "not a served document")
            return None
        return super().send_head()

    def list_directory(self, path: str | Path) -> None:
        self.send_error(404, "no directory listings")

    def _landing_page(self) -> Any:
        """A list of the served sites, at the base URL."""
        items = "".join(f'<li><a href="/{prefix}/">{html.escape(prefix)}</a> ({html.escape(str(root))})</li>'
                        for prefix, root in self.roots.items())
        body = f"<!doctype html><title>AI Pulse documents</title><h1>AI Pulse documents</h1><ul>{items}</ul>"
        encoded = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        return io.BytesIO(encoded)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.debug("docs server: " + format, *args)


@contextmanager
def serving_docs(warehouse: Warehouse, host: str, port: int) -> Iterator[str]:
    """Serve the warehouse's documents on `host:port` in a background thread; yields the base URL."""
    server = ThreadingHTTPServer((host, port), partial(DocsHandler, roots=sites(warehouse)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="ai-pulse-docs", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
