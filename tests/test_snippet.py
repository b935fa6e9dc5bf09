"""GET /js/script.js: small, cacheable with an ETag, gzipped on request, and no cookie anywhere."""

import gzip
import re

from harness import Harness

from collector.snippet import SNIPPET_PATH


def test_snippet_is_at_most_2_kb_gzipped() -> None:
    source = SNIPPET_PATH.read_bytes()
    assert len(gzip.compress(source, 9)) <= 2048


def test_snippet_writes_no_storage_and_no_cookie() -> None:
    source = SNIPPET_PATH.read_text()
    for forbidden in ("document.cookie", "localStorage", "sessionStorage", "indexedDB"):
        assert forbidden not in source
    assert re.search(r"credentials:\s*'omit'", source)


def test_served_with_etag_and_revalidated(harness: Harness) -> None:
    client = harness.client()
    plain = client.get("/js/script.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.content == SNIPPET_PATH.read_bytes()
    assert plain.headers["content-type"].startswith("text/javascript")
    assert plain.headers["cache-control"] == "public, max-age=3600"
    assert "set-cookie" not in plain.headers
    etag = plain.headers["etag"]
    again = client.get("/js/script.js", headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    zipped = client.get("/js/script.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == SNIPPET_PATH.read_bytes()  # httpx decodes it
    assert zipped.headers["etag"] != etag
    assert client.head("/js/script.js").status_code == 200
