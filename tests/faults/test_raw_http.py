"""Malformed HTTP straight at a real `teller serve`: refused cleanly, and the server keeps serving."""

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import FIREFOX
from teller_process import TellerProcess

SITE = "raw.test"


@pytest.fixture(scope="module")
def teller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TellerProcess]:
    tmp_path: Path = tmp_path_factory.mktemp("raw")
    process = TellerProcess(tmp_path, data_dir=str(tmp_path / "data"), sites=SITE, rate_limit="0")
    process.start()
    yield process
    process.stop_quietly()


def _raw(port: int, request: bytes) -> bytes:
    """Send raw bytes, return whatever the server answers before closing (or b'' on a reset)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


BODY = f'{{"n":"pageview","u":"https://{SITE}/","d":"{SITE}"}}'.encode()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nUser-Agent: a\rb\r\nContent-Length: 2\r\n\r\n{}",  # bare CR
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\n{}",  # NUL in a header
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"A" * 200_000 + b"\r\n\r\n",  # absurd header
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n{",
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GARBAGE\r\n\r\n",
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
    ],
    ids=["bare-cr", "nul-header", "huge-header", "negative-length", "huge-length", "bad-chunk", "garbage", "bad-utf8"],
)
def test_malformed_requests_are_refused_without_5xx(teller: TellerProcess, request_bytes: bytes) -> None:
    answer = _raw(teller.port, request_bytes)
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer[:200]
    # Whatever happened to that connection, the server still takes good events.
    good = httpx.post(f"{teller.url}/api/event", content=BODY, headers={"User-Agent": FIREFOX})
    assert good.status_code == 202
    assert teller.process is not None and teller.process.poll() is None


def test_long_user_agent_within_limits_is_cut_not_refused(teller: TellerProcess) -> None:
    response = httpx.post(f"{teller.url}/api/event", content=BODY, headers={"User-Agent": FIREFOX + "x" * 8000})
    assert response.status_code == 202
