"""The wheel as deploy/install.sh puts it on the box (`pip install .`, not editable): built
from a copy of the checkout, installed into a fresh venv, run from another folder so the
checkout is nowhere on its path. Dependencies come from pip's cache (or the registry).
Marked `wheel` (about a minute): `pytest -m 'not wheel'` leaves it out."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import wait_for

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; its bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", "backline-sim"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp / "dist"), str(src)],
                   check=True, cwd=tmp, timeout=600)
    wheel, = (tmp / "dist").glob("backline-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    bin_ = tmp / "venv" / "bin"
    subprocess.run([str(bin_ / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
                    "install", str(wheel)], check=True, cwd=tmp, timeout=900)
    return bin_


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BACKLINE_CONFIG")}
    return {**env, "COLUMNS": "140", "HOME": str(tmp)}


def _config(tmp: Path) -> Path:
    cfg = tmp / "c.toml"              # the defaults (the bundled demo), nothing of this machine's
    cfg.write_text(f'[library]\ncache = "{tmp / "cache"}"\n'
                   f'[box]\nlearned = "{tmp / "learned.toml"}"\n')
    return cfg


def test_the_wheel_ships_the_builds_and_profiles_and_runs_from_its_venv(installed, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c",
                            "import appliance; print(appliance.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path))
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(installed.parent), where.stdout + where.stderr
    assert not package.is_symlink() and not (package / "hw").is_symlink()    # copied in
    for f in (REPO / "hw").glob("*/*.toml"):
        assert (package / "hw" / f.parent.name / f.name).read_bytes() == f.read_bytes()
    voice = sorted((REPO / "appliance" / "voice").glob("*.flac"))      # the built-in words
    assert len(voice) == 30
    for f in voice:
        assert (package / "voice" / f.name).read_bytes() == f.read_bytes()
    page = sorted((REPO / "appliance" / "web" / "static").iterdir())     # the web remote's page
    assert {f.name for f in page} >= {"index.html", "app.css", "app.js"}
    for f in page:
        assert (package / "web" / "static" / f.name).read_bytes() == f.read_bytes()
    r = subprocess.run([str(installed / "backline"), "wiring", "--config", str(_config(tmp_path))],
                       capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "this is the stomp4 build (stomp4.toml)" in r.stdout


def test_the_installed_daemon_runs_to_ready_and_stops_cleanly_on_sigterm(installed, tmp_path):
    sim = tmp_path / "sim"
    proc = subprocess.Popen([str(installed / "backline"), "run", "--sim", "--sim-wav",
                             "--sim-dir", str(sim), "--config", str(_config(tmp_path))],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            cwd=tmp_path, env=_env(tmp_path))
    log = sim / "backline.log"
    try:
        assert wait_for(lambda: log.exists() and "ready" in log.read_text(), timeout=60), \
            log.read_text() if log.exists() else "no log"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        proc.kill()
        proc.wait()
    assert (sim / "output.wav").stat().st_size > 44       # the JACK-paced audio was kept


def test_the_demo_chart_song_plays_its_parts_from_the_wheel(installed, tmp_path):
    """The chart and the synthesiser's dependencies come with the wheel: a render of the
    demo chart song has the band on front-of-house (channel 1), not only the click (2)."""
    out = tmp_path / "chart.wav"
    r = subprocess.run([str(installed / "backline"), "render", "demo-chart", "-o", str(out),
                        "--bars", "4", "--no-count-in", "--config", str(_config(tmp_path))],
                       capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 0 and "without its parts" not in r.stderr, r.stderr
    import soundfile as sf
    audio, _ = sf.read(str(out), dtype="float32", always_2d=True)
    assert float(abs(audio[:, 0]).max()) > 0.05
