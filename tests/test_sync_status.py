"""`backline sync`'s progress line on the display (issue 17): the daemon reads the library's
`.sync/status` while a sync runs; what the file holds is shown truncated or not at all,
never a crash."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance.service.sync_status import LINE_MAX, READ_MAX, read_status
from appliance.sim.lcd import TerminalLcd
from appliance.songs.sync import STATUS_FILE, WORK_DIR, sync
from appliance.ui.display import Display, TextScreen
from appliance.vocab.state import State, TransportState

from test_sync import CONFIG, stick_with

IDLE = State(transport=TransportState.STOPPED, song="Fly Away", bar=1, beat=1, next_song="Encore")


def lcd_display() -> tuple[Display, TerminalLcd]:
    lcd = TerminalLcd()
    return Display(TextScreen(lcd), state=lambda: IDLE, menu=lambda s: None, rate=48000), lcd


def shown(display: Display, lcd: TerminalLcd, library: Path) -> str:
    """What the display's last line says once the service has read the status file."""
    display.sync = read_status(library)
    display.step()
    return lcd.lines()[3].rstrip()


@contextmanager
def a_sync_running(library: Path):
    """Holds `.sync`'s lock as a running sync does."""
    work = library / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    fd = os.open(work, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield work / STATUS_FILE
    finally:
        os.close(fd)


def test_a_real_syncs_progress_shows_while_it_copies_and_goes_when_it_ends(tmp_path, library):
    display, lcd = lcd_display()
    assert shown(display, lcd, library) == "next: Encore"
    seen: list[tuple[str, str]] = []       # (the sync's line, what the display shows)
    stick = stick_with(tmp_path, "one", "two")
    r = sync(stick, library, CONFIG, margin=0,
             progress=lambda p: seen.append((p.line()[:20].rstrip(), shown(display, lcd, library))))
    assert not r.problems.errors, r.problems
    assert seen and all(line == on_screen for line, on_screen in seen)
    assert seen[0][1].startswith("sync 0%") and seen[-1][1].startswith("sync 100%")
    assert shown(display, lcd, library) == "next: Encore"          # gone with the sync


def test_a_status_file_no_sync_holds_is_not_shown(library):
    (library / WORK_DIR).mkdir()
    (library / WORK_DIR / STATUS_FILE).write_text("sync 40% (1.0 of 2.5 MB): a.wav\n")
    display, lcd = lcd_display()                  # a sync killed, or the power cut mid-copy
    assert read_status(library) == "" and shown(display, lcd, library) == "next: Encore"


@pytest.mark.parametrize("content, expected", [
    (b"sync 40% (1.0 of 2.5 MB): a.wav\nmore\n", "sync 40% (1.0 of 2.5 MB): a.wav"),
    (b"\x00\x01\xff\xfe\x1b[2Jsync\tx\n", "??\ufffd\ufffd?[2Jsync?x"),
    (b"y" * (4 * 1024 * 1024), "y" * LINE_MAX),                 # huge, no newline
    (b"\xe9" * READ_MAX, "\ufffd" * LINE_MAX),                   # not UTF-8
    (b"", ""),
    (b"\n\n", ""),
])
def test_any_status_file_is_shown_cleaned_and_cut_or_not_at_all(library, content, expected):
    display, lcd = lcd_display()
    with a_sync_running(library) as status:
        status.write_bytes(content)
        assert read_status(library) == expected
        last = shown(display, lcd, library)               # drawn, no crash
        if expected.isascii():
            assert last == (expected[:20] or "next: Encore")


def test_a_status_that_is_no_regular_file_is_no_line(library):
    with a_sync_running(library) as status:
        os.mkfifo(status)                    # no writer: opening it must not block the loop
        assert read_status(library) == ""
        status.unlink()
        status.mkdir()
        assert read_status(library) == ""
        status.rmdir()
        status.symlink_to("/dev/zero")       # endless, and no regular file
        assert read_status(library) == ""
