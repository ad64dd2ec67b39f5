"""The web remote's API (docs/remote.md, "The web remote") against the real daemon on the
JACK double, through Starlette's TestClient: pairing, the state and its WebSocket,
commands, songs, setlists, an upload made a song, takes."""
from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf
from starlette.testclient import TestClient

from appliance.audio.record.takes import write_take_toml
from appliance.config import Config
from appliance.web.access import Access
from appliance.web.app import COOKIE, make_app
from appliance.web.daemon_link import DaemonLink

from conftest import wait_for
from test_daemon import jack  # noqa: F401  (the fixture: JACK's dummy driver as the card)
from test_import import daw_folder
from test_remote_socket import box  # noqa: F401  (a daemon playing on the JACK double)

HOST = "box.local"
ORIGIN = {"Origin": f"http://{HOST}"}


@contextmanager
def web(config: Config, socket_path: Path, state: Path, *, paired: bool = True):
    """A TestClient on the app (its link to the daemon running), paired unless told not."""
    access = Access(state)
    app = make_app(config, access, DaemonLink(socket_path, retry_s=0.05))
    with TestClient(app, base_url=f"http://{HOST}") as client:
        client.access = access
        if paired:
            r = client.post("/api/pair", json={"code": access.new_code()}, headers=ORIGIN)
            assert r.status_code == 200, r.text
        yield client


def state_when(client: TestClient, ok, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/api/state")
        if r.status_code == 200 and ok(r.json()):
            return r.json()
        time.sleep(0.02)
    raise AssertionError("no such state came")


def test_pair_then_play_the_state_says_playing_and_the_websocket_shows_the_bar_move(box, tmp_path):
    with web(box.config, box.remote.path, tmp_path / "web", paired=False) as client:
        assert client.get("/api/state").status_code == 401
        r = client.post("/api/pair", json={"code": client.access.new_code()}, headers=ORIGIN)
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie \
            and "Path=/" in cookie and "Max-Age=" in cookie
        assert state_when(client, lambda s: True)["transport"] == "stopped"
        r = client.post("/api/command", json={"command": "play"}, headers=ORIGIN)
        assert r.json() == {"ok": True}
        state_when(client, lambda s: s["transport"] == "playing")
        with client.websocket_connect(f"ws://{HOST}/api/events", headers=ORIGIN) as ws:
            first = ws.receive_json()["state"]
            assert first["transport"] == "playing"
            for _ in range(200):                 # 10 s of states at 20 a second
                if ws.receive_json()["state"]["bar"] > first["bar"]:
                    break
            else:
                raise AssertionError("the bar did not move")


def test_command_errors_come_through_as_the_daemon_says_them(box, tmp_path):
    with web(box.config, box.remote.path, tmp_path / "web") as client:
        r = client.post("/api/command", json={"command": "Jump", "args": {"section": "Bridge"}},
                        headers=ORIGIN)
        assert r.status_code == 200
        assert r.json() == {"ok": False,
                            "error": "Jump: no section 'Bridge' (sections: A, B, C)"}
        r = client.post("/api/command", json={"command": "frob"}, headers=ORIGIN)
        assert r.json()["ok"] is False and "unknown command 'frob'" in r.json()["error"]
        r = client.post("/api/command", content=b'{"command": "SetGain", "args": '
                        b'{"stem": "click", "db": NaN}}', headers=ORIGIN)
        assert r.status_code == 400 and "NaN is not a number JSON allows" in r.json()["error"]


def test_songs_listed_with_their_fields_and_deleted_to_the_trash(box, tmp_path):
    with web(box.config, box.remote.path, tmp_path / "web") as client:
        songs = client.get("/api/songs").json()
        assert [s["name"] for s in songs] == ["one", "two"]
        assert set(songs[0]) == {"name", "title", "seconds", "bpm", "key", "stems", "sections",
                                 "loudness"}
        assert songs[0]["sections"] == ["A", "B", "C"] and songs[0]["loudness"] is None
        assert client.delete("/api/songs/nope", headers=ORIGIN).status_code == 404
        assert client.delete("/api/songs/two", headers=ORIGIN).status_code == 200
        library = box.config.library
        assert not (library / "songs" / "two").exists()
        [binned] = list((library / ".trash").iterdir())
        assert (binned / "two" / "song.toml").is_file()
        assert [s["name"] for s in client.get("/api/songs").json()] == ["one"]


def test_setlists_read_saved_and_loaded_but_not_mid_song(box, tmp_path):
    with web(box.config, box.remote.path, tmp_path / "web") as client:
        assert client.get("/api/setlists").json() == ["gig"]
        assert client.get("/api/setlists/gig").json() == {
            "name": "gig", "songs": ["one", "two"], "transitions": ["stop", "stop"]}
        body = {"songs": ["two", "one"], "transitions": ["gapless", None]}
        assert client.put("/api/setlists/late", json=body, headers=ORIGIN).status_code == 200
        assert client.get("/api/setlists/late").json()["transitions"] == ["gapless", "stop"]
        r = client.put("/api/setlists/bad", json={"songs": ["nope"]}, headers=ORIGIN)
        assert r.status_code == 400 and "songs[0]" in r.json()["error"]
        assert client.post("/api/setlists/late/load", headers=ORIGIN).status_code == 200
        state_when(client, lambda s: s["setlist"] == "late" and s["song"] == "two")
        client.post("/api/command", json={"command": "play"}, headers=ORIGIN)
        state_when(client, lambda s: s["transport"] == "playing")
        r = client.post("/api/setlists/gig/load", headers=ORIGIN)
        assert r.status_code == 409 and r.json() == {"error": "stop the song first"}


def _zip(folder: Path, arcroot: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, f"{arcroot}/{p.relative_to(folder)}")
    return buf.getvalue()


def job_done(client: TestClient, job: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = client.get(f"/api/upload/{job}").json()
        assert 0 <= got["progress"] <= 1
        if got["state"] != "running":
            return got
        time.sleep(0.05)
    raise AssertionError("the upload job did not end")


def test_a_zipped_daw_export_uploaded_becomes_a_song(box, tmp_path):
    data = _zip(daw_folder(tmp_path), "Export")
    with web(box.config, box.remote.path, tmp_path / "web") as client:
        r = client.post("/api/upload?name=Uploaded&bpm=120", content=data, headers=ORIGIN)
        assert r.status_code == 202, r.text
        got = job_done(client, r.json()["job"])
        assert got == {"state": "done", "progress": 1.0, "message": "Uploaded: imported",
                       "song": "Uploaded"}
        assert "Uploaded" in [s["name"] for s in client.get("/api/songs").json()]
        assert not list((box.config.library / ".uploads").iterdir())   # nothing left behind


def test_a_zipped_backline_song_folder_is_checked_and_moved_in(box, tmp_path):
    data = _zip(box.config.library / "songs" / "one", "one")
    with web(box.config, box.remote.path, tmp_path / "web") as client:
        r = client.post("/api/upload?name=one", content=data, headers=ORIGIN)
        assert job_done(client, r.json()["job"])["message"] == \
            "one: the library has a song of that name already"
        r = client.post("/api/upload?name=encore", content=data, headers=ORIGIN)
        assert job_done(client, r.json()["job"])["state"] == "done"
        assert (box.config.library / "songs" / "encore" / "song.toml").is_file()
        broken = b"not a zip at all"
        r = client.post("/api/upload?name=junk", content=broken, headers=ORIGIN)
        assert job_done(client, r.json()["job"])["message"].startswith("not a zip file")


def test_takes_listed_and_a_file_downloaded(box, tmp_path):
    folder = box.config.recordings / "2024-05-01-one-take1"
    folder.mkdir(parents=True)
    samples = (np.arange(48000) % 100 / 100.0).astype(np.float32)
    sf.write(folder / "vox.wav", samples, 48000, subtype="FLOAT")
    write_take_toml(folder, {"song": "one", "rate": 48000, "frames": 48000,
                             "started": "2024-05-01T21:03:00", "complete": True})
    with web(box.config, box.remote.path, tmp_path / "web") as client:
        assert client.get("/api/takes").json() == [{
            "name": "2024-05-01-one-take1", "song": "one", "date": "2024-05-01T21:03:00",
            "files": ["vox.wav"], "seconds": 1.0}]
        r = client.get("/api/takes/2024-05-01-one-take1/vox.wav")
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        got, rate = sf.read(io.BytesIO(r.content), dtype="float32")
        assert rate == 48000 and np.array_equal(got, samples)
        assert client.get("/api/takes/2024-05-01-one-take1/take.toml").status_code == 404
        assert client.get("/api/takes/..%2F..%2Fetc/passwd").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _web_process(box, tmp_path):
    """`backline web` as its own process on a free loopback port: (process, base URL, the
    pairing code it printed)."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "web", "--listen",
                             f"127.0.0.1:{port}", "--socket", str(box.remote.path),
                             "--state", str(tmp_path / "web")], stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "pairing code" in line, line
    return proc, f"http://127.0.0.1:{port}", line.split("pairing code ")[1].split()[0]


def test_sigterm_stops_the_web_server_with_a_page_connected(box, tmp_path):
    """systemd stops the unit with SIGTERM: an open WebSocket must not hold it until the
    stop timeout's SIGKILL."""
    import httpx
    from websockets.sync.client import connect

    proc, base, code = _web_process(box, tmp_path)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            assert wait_for(lambda: _answers(http), 20)
            http.post("/api/pair", json={"code": code}, headers={"Origin": base})
            cookie = f"backline_token={http.cookies['backline_token']}"
        ws = connect(base.replace("http", "ws", 1) + "/api/events", open_timeout=10,
                     additional_headers={"Cookie": cookie, "Origin": base})
        ws.recv(timeout=5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) is not None
        assert time.monotonic() - started < 5
        ws.close_socket()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_of_the_web_server_while_flooded_leaves_the_daemon_playing(box, tmp_path):
    """`backline web` as its own process on loopback, its API and WebSocket flooded, then
    killed with SIGKILL: the daemon plays on, and counts no xrun the JACK double does not
    count on its own in as long a quiet time."""
    import httpx
    from websockets.sync.client import connect

    proc, base, code = _web_process(box, tmp_path)
    origin = {"Origin": base}
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            assert wait_for(lambda: _answers(http), 20)
            assert http.post("/api/pair", json={"code": code}, headers=origin).status_code == 200
            assert http.post("/api/command", json={"command": "play"},
                             headers=origin).json() == {"ok": True}
            wait_for(lambda: http.get("/api/state").json()["transport"] == "playing", 10)
            before = box.player.state.xruns
            time.sleep(2)
            quiet = box.player.state.xruns == before      # the double alone, as long a time
            xruns = box.player.state.xruns
            cookie = f"backline_token={http.cookies['backline_token']}"
            sockets = [connect(base.replace("http", "ws", 1) + "/api/events", open_timeout=10,
                               additional_headers={"Cookie": cookie, "Origin": base})
                       for _ in range(10)]
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:            # a bounded flood on loopback
                http.get("/api/songs")
                http.post("/api/pair", json={"code": "00000000"}, headers=origin)
                for ws in sockets:
                    ws.recv(timeout=5)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            for ws in sockets:
                ws.close_socket()
        periods = box.player.engine.periods
        assert wait_for(lambda: box.player.engine.periods > periods + 100, 10)
        assert box.player.state.transport.value == "playing"
        assert box.remote.is_alive()
        if quiet:
            assert box.player.state.xruns == xruns
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()


def _answers(http) -> bool:
    """The server is up (and refuses us: not paired yet)."""
    import httpx
    try:
        return http.get("/api/state").status_code == 401
    except httpx.TransportError:
        return False


def test_the_web_server_follows_the_daemon_away_and_back(tmp_path):
    """No daemon: 503 saying so; a socket that comes up later is found."""
    path = tmp_path / "control.sock"
    with web(Config(library=tmp_path / "lib"), path, tmp_path / "web") as client:
        r = client.get("/api/songs")
        assert r.status_code == 503 and "the player is not running" in r.json()["error"]


def test_songs_carry_their_measured_loudness_and_gain(tmp_path, library):
    """The socket's songs reply (which /api/songs passes on) says a measured song's LUFS
    and the FOH gain it plays at; null before `backline prepare`."""
    from appliance.control.remote_library import songs
    from appliance.songs.loudness import prepare
    from transport_rig import CONFIG, position_song

    folder = position_song(library, "one", bars=8)
    config = Config(cache=tmp_path / "cache", library=library, **CONFIG)
    assert songs(config)[0]["loudness"] is None
    level = prepare(folder, config)
    got = songs(config)[0]["loudness"]
    assert got == {"lufs": level.measured.integrated_lufs, "gain_db": level.gain_db}
    assert isinstance(got["lufs"], float) and got["lufs"] < 0
