"""Shared helpers: songs written to a temporary library, the CLI run in-process."""
from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.cli import main

RATE = 48000


def tone(seconds: float, rate: int, freq: float, channels: int = 1, amp: float = 0.25,
         seed: int = 0) -> np.ndarray:
    """A test signal whose every sample is distinct enough to catch misalignment."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    cols = [amp * np.sin(2 * np.pi * freq * (c + 1) * t) + 0.05 * rng.standard_normal(n)
            for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def write_stem(folder: Path, name: str, data: np.ndarray, rate: int,
               subtype: str = "FLOAT") -> Path:
    path = folder / name
    sf.write(str(path), data, rate, subtype=subtype)
    return path


def make_song(library: Path, name: str, toml: str,
              stems: dict[str, tuple[np.ndarray, int]] | None = None,
              subtype: str = "FLOAT") -> Path:
    folder = library / "songs" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(toml)
    for file, (data, rate) in (stems or {}).items():
        write_stem(folder, file, data, rate, subtype)
    return folder


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def wait_for(predicate, timeout: float = 10.0) -> bool:
    """Poll a condition another thread makes true (the audio thread, a daemon)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return False


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run_cli(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:   # argparse usage errors
            code = exc.code
    return Run(code, out.getvalue(), err.getvalue())


def beats_csv(text: str) -> list[dict[str, str]]:
    lines = text.strip().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, line.split(","))) for line in lines[1:]]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    (tmp_path / "lib" / "songs").mkdir(parents=True)
    (tmp_path / "lib" / "setlists").mkdir()
    return tmp_path / "lib"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the machine's /etc/backline or writes the user's cache."""
    cfg = tmp_path / "default-config.toml"
    cfg.write_text(f'[library]\ncache = "{tmp_path / "cache"}"\n')
    monkeypatch.setenv("BACKLINE_CONFIG", str(cfg))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    sys.stdout.flush()


@pytest.fixture(autouse=True)
def engines_stop(monkeypatch: pytest.MonkeyPatch):
    """An audio thread a failing test left running would write unpaced audio into an ALSA
    `file` output for the rest of the run (tens of GB), and a player's disk threads (started
    when it is made: its loader readies the first song) would run on at a real-time priority:
    every player a test made and every engine it started are stopped when the test ends,
    whatever happened (stopping twice is fine)."""
    from appliance.audio.engine import Engine
    from appliance.audio.player import Player
    made: list = []
    real_start, real_init = Engine.start, Player.__init__

    def start(self: Engine) -> None:
        made.append(self)
        real_start(self)

    def init(self: Player, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(Engine, "start", start)
    monkeypatch.setattr(Player, "__init__", init)
    yield
    for thing in reversed(made):
        thing.stop()


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A small tmpfs (the tests run as root) to fill: `tiny_disk("300k")` is its folder."""
    import subprocess
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        disk = tmp_path / f"disk{len(mounted)}"
        disk.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"the disk-full tests mount a tmpfs (as root): {r.stderr}"
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", "--lazy", str(disk)])


def pytest_terminal_summary(terminalreporter) -> None:
    """How many cases the fuzz suite generated (tests/test_fuzz.py), for the release note."""
    fuzz = sys.modules.get("fuzz_files")
    if fuzz is not None and fuzz.CASES:
        terminalreporter.write_line(f"fuzz: {sum(fuzz.CASES.values())} generated cases "
                                    f"(profile {fuzz.PROFILE}): " + ", ".join(
                                        f"{k} {n}" for k, n in fuzz.CASES.items()))
