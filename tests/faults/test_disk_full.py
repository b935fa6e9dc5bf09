"""A full disk under the spool: 503 with Retry-After, nothing acknowledged lost, recovery once space returns.

The spool lives on a real 256 KiB tmpfs mounted for the test (root only); a filler file takes its space.
Under CI a tmpfs that cannot be mounted fails the test instead of skipping it.
"""

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from harness import FIREFOX, Harness

from collector.ingest.spool import Spool
from storage.store import Store

SITE = "diskfull.test"


def _cannot(message: str) -> None:
    """Skip, or fail under CI, where the environment cannot run the test."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "spool"
    mount_point.mkdir()
    if os.geteuid() != 0:
        _cannot("mounting a tmpfs for the spool needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        _cannot(f"cannot mount a tmpfs for the spool: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path) -> Path:
    """Write a file until the file system refuses; return it."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _open_segment_rows(spool_dir: Path) -> list[tuple]:
    """Rows of the open segment, read as a replay after a crash would; every line must be a whole row."""
    (segment,) = spool_dir.glob("*/*.open")
    lines = segment.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the segment ends inside a row"
    rows = Spool.read(segment)
    assert len(rows) == len(lines) - 1, "a line of the segment is not a whole row"
    return rows


def test_a_full_spool_disk_answers_503_and_loses_nothing_acknowledged(
    store: Store, tmp_path: Path, small_disk: Path
) -> None:
    harness = Harness(store, tmp_path / "data", spool_dir=small_disk, rate_limit=0)
    harness.start()
    acknowledged = 0
    answers: dict[int, int] = {}

    def post(count: int, batch: int = 0) -> None:
        nonlocal acknowledged
        for index in range(count):
            if batch:
                events = [{"n": "pageview", "u": f"https://{SITE}/b{index}/{i}", "d": SITE} for i in range(batch)]
                response = harness.client().post(
                    "/api/events", content=orjson.dumps(events), headers={"User-Agent": FIREFOX}
                )
            else:
                response = harness.pageview(SITE, f"/p{index}")
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
            if response.status_code == 202:
                assert "x-teller-dropped" not in response.headers
                acknowledged += batch or 1
            else:
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "5"
                assert "overloaded" in response.json()["error"]

    try:
        harness.add_site(SITE)
        post(20)
        assert answers == {202: 20}
        filler = _fill(small_disk)
        full_since = acknowledged
        post(100)
        post(10, batch=40)
        # The segment's last page had room for a few more rows; then every write was refused.
        assert answers[503] >= 100 and set(answers) <= {202, 503}
        print(f"\ndisk full: {answers[503]} answers 503, {acknowledged - full_since} events still fitted")
        # Refused writes were cut back: the segment holds exactly the acknowledged rows, each whole.
        assert len(_open_segment_rows(small_disk)) == acknowledged
        filler.unlink()
        answers.clear()
        post(20)
        post(5, batch=40)
        assert answers == {202: 25}
        assert len(_open_segment_rows(small_disk)) == acknowledged
        harness.flush()
        counted = store.query("SELECT count() FROM events WHERE site = %(s)s", {"s": SITE})[0][0]
        assert counted == acknowledged
        assert not list(small_disk.glob("*/*.sealed"))
    finally:
        harness.stop()
