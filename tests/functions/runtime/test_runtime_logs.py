"""The log's bound and Lambda's REPORT line."""

from __future__ import annotations

from altostratus.functions.runtime.logs import BoundedLog, Report, render


def test_a_short_log_is_kept_whole() -> None:
    log = BoundedLog(limit=100)
    for chunk in [b"hello ", b"world"]:
        log.feed(chunk)
    assert log.text() == "hello world"


def test_a_long_log_keeps_its_first_and_last_halves_and_says_how_much_it_dropped() -> None:
    log = BoundedLog(limit=20)
    for index in range(100):
        log.feed(b"%03d," % index)
    text = log.text()
    assert text.startswith("000,001,")
    assert text.endswith(",098,099,")
    assert "[... 380 bytes of output omitted: a log keeps the first and last 10 bytes ...]" in text
    assert log.total == 400


def test_one_huge_chunk_is_cut_too() -> None:
    log = BoundedLog(limit=8)
    log.feed(b"a" * 4 + b"b" * 1000 + b"c" * 4)
    text = log.text()
    assert text.startswith("aaaa") and text.endswith("cccc") and "1000 bytes" in text


def test_a_character_cut_in_half_becomes_a_replacement_character() -> None:
    log = BoundedLog(limit=12)
    log.feed("ééé".encode() + b"-" * 50 + "ééé".encode())
    assert log.text().startswith("ééé") and log.text().endswith("ééé")
    log = BoundedLog(limit=4)
    log.feed(b"x" + "é".encode() + b"-" * 50)
    assert log.text().startswith("x\ufffd")


def test_the_report_line() -> None:
    report = Report("rid-1", 12.341, 128, 41, init_duration_ms=95.5)
    assert report.line() == (
        "REPORT RequestId: rid-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 41 MB\tInit Duration: 95.50 ms\t"
    )
    timed_out = Report("rid-2", 1000.2, 128, 30, status="timeout")
    assert timed_out.line().endswith(
        "Billed Duration: 1001 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tStatus: timeout\t"
    )


def test_render_frames_the_output() -> None:
    log = render("$LATEST", "printed", Report("r", 0.5, 128, 20), init_output="init")
    assert log.splitlines() == [
        "init",
        "START RequestId: r Version: $LATEST",
        "printed",
        "END RequestId: r",
        "REPORT RequestId: r\tDuration: 0.50 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\t",
    ]
