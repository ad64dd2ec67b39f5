"""The control socket (docs/remote.md) against the real daemon on the JACK double: what a
client says, what comes back, and that nothing a client does reaches the audio."""
from __future__ import annotations

import json
import math
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.config import Config
from appliance.control import remote_connections as remote   # its limits: MAX_CLIENTS, MAX_OUT, PARTIAL_S
from appliance.control.remote_messages import hello, make_command
from appliance.errors import Problems
from appliance.service.daemon import Daemon
from appliance.timeline.library import Library
from appliance.vocab import commands
from appliance.vocab.state import Health, State, StemLevel, TransportState
from appliance.vocab.state_json import state_json

import test_daemon
from conftest import wait_for
from transport_rig import CONFIG, position_song

jack = test_daemon.jack        # the fixture: JACK's dummy driver as the card


class Client:
    """A client as the web remote would be: one connection, lines of JSON."""

    def __init__(self, path: Path, *, connect: bool = True) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.buf = b""
        self.states: list[dict] = []
        self.next_id = 0
        if connect:
            self.sock.connect(str(path))
            self.hello = self.line()

    def line(self, timeout: float = 5) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send(self, message: dict | bytes) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.sock.sendall(data)

    def ask(self, message: dict | str, timeout: float = 5) -> dict:
        """The reply to `message` (an object, or its JSON text: given the next id); states
        that come first are kept. A message that is not JSON has its reply's id null."""
        self.next_id += 1
        text = message if isinstance(message, str) else json.dumps(message)
        self.send(f'{{"id": {self.next_id}, {text[1:]}\n'.encode())
        while True:
            got = self.line(timeout)
            if "state" in got:
                self.states.append(got["state"])
            elif got.get("id") in (self.next_id, None):
                return got

    def state_until(self, ok, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for s in self.states:
                if ok(s):
                    return s
            self.states.clear()
            got = self.line(deadline - time.monotonic())
            if "state" in got:
                self.states.append(got["state"])
        raise AssertionError("no such state came")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def box(tmp_path, library, jack):  # noqa: F811
    """A daemon playing on the JACK double with its control socket; stopped at the end."""
    for name in ("one", "two"):
        position_song(library, name, bars=40)
    (library / "setlists" / "gig.setlist").write_text("one\ntwo\n")
    config = Config(cache=tmp_path / "cache", device="jackhat", library=library,
                    **{**CONFIG, "format": "FLOAT_LE"})
    path = tmp_path / "control.sock"
    d = Daemon(config, state_path=tmp_path / "st.json", socket_path=path)
    t = threading.Thread(target=d.run)
    t.start()
    try:
        assert wait_for(lambda: d.remote is not None and d.player.engine.periods > 0, 15)
        # the first song loaded, not only the engine running: a command that names its
        # sections before then is refused as "no song loaded" (seen under load)
        assert wait_for(lambda: d.player.state.sections == ("A", "B", "C"), 15)
        yield d
    finally:
        d.request_stop()
        t.join(10)
        if d.player is not None:
            d.player.stop()


def test_hello_then_play_and_the_stream_shows_playing_and_the_bar_moving(box):
    path = box.remote.path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    c = Client(path)
    try:
        assert c.hello["hello"] == "backline" and c.hello["version"] == 1
        assert "Jump" in c.hello["commands"]
        assert c.ask({"subscribe": "state"}) == {"id": 1, "ok": True, "stream": "state"}
        first = c.state_until(lambda s: True)
        assert first["transport"] == "stopped" and first["setlist"] == "gig"
        assert c.ask({"command": "play"}) == {"id": 2, "ok": True}
        c.state_until(lambda s: s["transport"] == "playing")
        c.state_until(lambda s: s["bar"] >= 2, 15)
    finally:
        c.close()


def test_the_stream_sends_only_changes_and_at_most_20_a_second(box):
    c = Client(box.remote.path)
    try:
        c.ask({"subscribe": "state"})
        stopped = c.states[:]
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:      # stopped: nothing changes but the clock
            try:
                stopped.append(c.line(0.2)["state"])
            except (socket.timeout, TimeoutError):
                pass
        assert len(stopped) <= 21                # an xrun under load is a change (health)
        for before, after in zip(stopped, stopped[1:]):
            assert {**before, "output_frame": 0} != {**after, "output_frame": 0}
        c.states.clear()
        c.ask({"command": "play"})
        c.state_until(lambda s: s["transport"] == "playing")
        c.states.clear()
        got, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 1.0:
            got += "state" in c.line()
        assert 5 <= got <= 22
    finally:
        c.close()


def test_a_jump_by_name_and_a_refused_one_names_the_sections(box):
    c = Client(box.remote.path)
    try:
        c.ask({"subscribe": "state"})
        assert c.ask({"command": "play"})["ok"]
        assert c.ask({"command": "jump B @now"}) == {"id": 3, "ok": True}
        c.state_until(lambda s: s["section"] == "B" and s["bar"] >= 3)
        assert c.ask({"command": "Jump", "args": {"section": "c", "at": "now"}})["ok"]
        c.state_until(lambda s: s["section"] == "C")
        refused = c.ask({"command": "jump Bridge"})
        assert refused == {"id": 5, "ok": False,
                           "error": "Jump: no section 'Bridge' (sections: A, B, C)"}
    finally:
        c.close()


@pytest.mark.parametrize("message, error", [
    ({"command": "frobnicate"}, "unknown command 'frobnicate'"),
    ({"command": "Frobnicate", "args": {}}, "unknown command 'Frobnicate'"),
    ({"command": "SetGain", "args": {"stem": "click", "db": 99}},
     "SetGain.db must be -120 to 12, not 99"),
    ({"command": "seek 0"}, "Seek.bar must be 1 or more, not 0"),
    ({"command": "Jump", "args": {"sektion": "B"}},
     "Jump has no argument 'sektion' (arguments: section, at)"),
    ({"command": "Jump", "args": {"section": "B", "at": "soon"}},
     "Jump.at must be one of now, beat, bar, section, not 'soon'"),
    ('{"command": "SetGain", "args": {"stem": "click", "db": 1e400}}',
     "SetGain.db must be a finite number, not inf"),
    ('{"command": "SetGain", "args": {"stem": "click", "db": NaN}}',
     "not JSON: NaN is not a number JSON allows"),
    ({"command": "Mute", "args": {"stem": "bass", "on": "yes"}}, "Mute.on must be bool"),
    ({"command": "shutdown"}, "not offered over the control socket"),
    ({"command": "OpenShow", "args": {"path": "/etc/passwd"}}, "not offered"),
    ({"command": 7}, "command must be a string"),
    ({"request": "everything"}, "unknown request 'everything'"),
    ({"subscribe": "audio"}, "the only stream is \"state\""),
    ({"command": "play", "request": "songs"}, "one of command, request, subscribe"),
])
def test_an_unknown_command_or_a_bad_argument_is_named(box, message, error):
    c = Client(box.remote.path)
    try:
        got = c.ask(message)
        assert got["ok"] is False and error in got["error"], got
        assert got["id"] == (None if "not JSON" in error else 1)
    finally:
        c.close()


@pytest.mark.parametrize("name, args, made", [
    ("TapTempo", None, commands.TapTempo()), ("tap", None, commands.TapTempo()),
    ("SetBpm", {"bpm": 96.5}, commands.SetBpm(96.5)), ("bpm-up", None, commands.NudgeBpm(1)),
    ("NudgeBpm", {"bpm": -1}, commands.NudgeBpm(-1)),
    ("SetIntensity", {"level": 0.25}, commands.SetIntensity(0.25)), ("softer", None, commands.NudgeIntensity(-0.1)),
    ("NudgeKey", {"semitones": -1}, commands.NudgeKey(-1)), ("key +2", None, commands.SetKey(2)),
    ("SetTempo", {"percent": 90}, commands.SetTempo(90)),
])
def test_key_tempo_and_the_live_commands_are_offered_as_the_web_page_sends_them(name, args, made):
    assert make_command(name, args) == made
    assert type(made).__name__ in hello()["commands"]



def test_the_song_listing(box, library):
    folder = library / "songs" / "two"
    (folder / "song.toml").write_text('title = "Two"\nkey = "Am"\n' + (folder / "song.toml").read_text())
    (library / "songs" / "broken").mkdir()
    (library / "songs" / "broken" / "song.toml").write_text("tempo = 'fast'\n")
    c = Client(box.remote.path)
    try:
        got = c.ask({"request": "songs"})
        assert got["ok"]
        songs = {s["name"]: s for s in got["songs"]}
        assert songs["one"] == {"name": "one", "title": "one", "seconds": 80.0, "bpm": 120.0,
                                "key": None, "stems": 1, "sections": ["A", "B", "C"],
                                "loudness": None}
        assert songs["two"]["key"] == "Am" and songs["two"]["title"] == "Two"
        assert "song.toml" in songs["broken"]["problem"]
        assert c.ask({"request": "setlists"})["setlists"] == ["gig"]
        assert c.ask({"request": "setlist", "name": "gig"}) == {
            "id": 3, "ok": True, "name": "gig", "songs": ["one", "two"],
            "transitions": ["stop", "stop"], "problems": []}
    finally:
        c.close()


def test_a_saved_setlist_is_on_disk_and_valid_and_an_invalid_one_is_refused(box, library):
    c = Client(box.remote.path)
    try:
        got = c.ask({"request": "save_setlist", "name": "friday", "songs": ["two", "one"],
                     "transitions": ["crossfade 1500 ms", None]})
        assert got["ok"], got
        path = library / "setlists" / "friday.setlist"
        assert path.read_text() == "two | crossfade 1500 ms\none\n"
        problems = Problems()
        saved = Library(library).setlist(path, problems)
        assert not problems and [e.song for e in saved.entries] == ["two", "one"]
        assert str(saved.entries[0].transition) == "crossfade 1500 ms"
        for message, error in [
            ({"songs": ["one", "nope"]}, "songs[1]: song 'nope' is not in the library"),
            ({"songs": ["one"], "transitions": ["fade"]}, "transitions[0]: transition must be"),
            ({"songs": ["one"], "transitions": ["crossfade 99999 ms"]}, "transitions[0]"),
            ({"songs": []}, "songs must be a list of 1 to"),
            ({"songs": ["one\ntwo"]}, "songs[0]: 'one\\ntwo' is not a song's name"),
            ({"songs": ["one"], "name": "../../etc/evil"}, "name must be a setlist's name"),
            ({"songs": ["one"], "name": ".hidden"}, "name must be a setlist's name"),
        ]:
            got = c.ask({"request": "save_setlist", "name": "friday", **message})
            assert got["ok"] is False and error in got["error"], (message, got)
        assert path.read_text() == "two | crossfade 1500 ms\none\n"      # kept as it was
        assert sorted(p.name for p in (library / "setlists").iterdir()) == \
            ["friday.setlist", "gig.setlist"]
        assert not (library.parent / "etc").exists()
    finally:
        c.close()


def test_loading_a_setlist_is_refused_mid_song_with_the_reason(box):
    c = Client(box.remote.path)
    try:
        c.ask({"request": "save_setlist", "name": "short", "songs": ["two"]})
        c.ask({"subscribe": "state"})
        c.ask({"command": "play"})
        c.state_until(lambda s: s["transport"] == "playing")
        got = c.ask({"request": "load_setlist", "name": "short"})
        assert got == {"id": 4, "ok": False, "error": "short: not loaded; stop the song first"}
        assert "no setlist 'nope'" in c.ask({"request": "load_setlist", "name": "nope"})["error"]
        c.ask({"command": "stop"})
        c.state_until(lambda s: s["transport"] == "stopped")
        assert c.ask({"request": "load_setlist", "name": "short"})["ok"]
        c.state_until(lambda s: s["setlist"] == "short" and s["count"] == 1)
    finally:
        c.close()


def _flood(path: Path, data: bytes) -> None:
    """Send `data` on a connection of its own; the server may hang up on it midway."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        s.settimeout(10)
        s.sendall(data)
        s.recv(65536)
    except OSError:
        pass
    finally:
        s.close()


def test_garbage_leaves_the_daemon_playing_and_a_good_client_served(box, monkeypatch):
    monkeypatch.setattr(remote, "PARTIAL_S", 0.5)
    path = box.remote.path
    good = Client(path)
    crowd: list[socket.socket] = []
    try:
        good.ask({"subscribe": "state"})
        good.ask({"command": "play"})
        good.state_until(lambda s: s["transport"] == "playing")
        before = box.player.state.xruns
        time.sleep(3)                # as long as the garbage takes: does the machine allow
        xruns = box.player.state.xruns      # the JACK double no xruns on its own?
        quiet = xruns == before
        bad = Client(path)
        bad.send(b"this is not json\n")
        assert "not JSON" in bad.line()["error"]
        bad.send(bytes(range(128, 256)) * 8 + b"\n")
        assert bad.line()["error"] == "not UTF-8 text"
        bad.send(b"[" * 60000 + b"\n")
        assert "not JSON" in bad.line()["error"]
        bad.send(b"NaN\n")
        assert "NaN is not a number JSON allows" in bad.line()["error"]
        assert bad.ask({"command": "next-section"})["ok"]           # still served
        half = Client(path)
        half.send(b'{"id": 1, "comm')                          # ... and then silence
        assert "half a message" in half.line(3)["error"]
        with pytest.raises((EOFError, OSError)):
            half.line(3)
        floods = [threading.Thread(target=_flood, args=(path, b"x" * 10_000_000 + b"\n")),
                  threading.Thread(target=_flood, args=(path, os.urandom(1_000_000)))]
        for f in floods:
            f.start()
        for _ in range(200):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(path))
            crowd.append(s)
        for f in floods:
            f.join(20)
        refused = 0
        for s in crowd:
            s.settimeout(5)
            data = b""
            try:
                while data.count(b"\n") < 1:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            refused += b"too many connections" in data
        assert refused >= 200 - remote.MAX_CLIENTS
        assert box.remote.is_alive()
        assert box.remote.clients <= remote.MAX_CLIENTS
        bar = good.state_until(lambda s: True)["bar"]
        assert good.ask({"command": "SetOutputGain", "args": {"output": "foh", "db": -3}})["ok"]
        good.state_until(lambda s: dict(s["output_gain_db"]).get("foh") == -3.0)
        good.state_until(lambda s: s["bar"] > bar and s["transport"] == "playing")
        assert box.player.state.health in (Health.HEALTHY, Health.RECOVERING)
        if quiet:                    # a machine too busy for the double xruns anyway
            assert box.player.state.xruns == xruns    # the flood never reached the audio
    finally:
        good.close()
        for s in crowd:
            s.close()


def test_a_stalled_subscriber_does_not_slow_the_others(box):
    path = box.remote.path
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(str(path))
    good = Client(path)
    try:
        stalled.sendall(b'{"subscribe": "state"}\n' * 3)
        for i in range(2000):        # replies it never reads, until the server drops it
            try:
                stalled.send(b'{"request": "setlists"}\n', socket.MSG_DONTWAIT)
            except OSError:
                break
        good.ask({"subscribe": "state"})
        good.ask({"command": "play"})
        good.state_until(lambda s: s["transport"] == "playing")
        good.states.clear()
        got, t0, frames = 0, time.monotonic(), []
        while time.monotonic() - t0 < 2.0:
            line = good.line()
            if "state" in line:
                got += 1
                frames.append(line["state"]["frame"])
        assert got >= 20 and frames == sorted(frames)          # ~20 a second, in order
        assert good.ask({"command": "next-section"})["ok"]
        waiting = [len(cl.out) for cl in box.remote._clients.values()]
        assert max(waiting) <= remote.MAX_OUT + 65536
    finally:
        stalled.close()
        good.close()


def test_arbitrary_json_as_commands_always_gets_one_reply(box):
    c = Client(box.remote.path)
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                                   max_size=4),
        max_leaves=10)
    names = st.sampled_from(["Play", "Stop", "Seek", "Jump", "SetGain", "Mute", "Vamp",
                             "SelectSong", "Record", "Arm", "jump", "seek", "vamp 2",
                             "mute bass", "Shutdown", "OpenShow"])

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(command=json_values | names, args=st.none() | json_values)
    def one_reply(command, args):
        message = {"command": command} if args is None else {"command": command, "args": args}
        try:
            json.dumps(message, allow_nan=False)
            finite = True
        except ValueError:
            finite = False
        got = c.ask(json.dumps(message))         # NaN and inf as Python spells them
        if not finite:                           # not JSON: no id can be read from it
            assert got == {"id": None, "ok": False,
                           "error": got["error"]} and "JSON allows" in got["error"]
        else:
            assert got["id"] == c.next_id and isinstance(got["ok"], bool)
            assert got["ok"] or got["error"]

    try:
        one_reply()
        assert box.remote.is_alive()
        assert c.ask({"request": "setlists"})["setlists"] == ["gig"]     # still served
    finally:
        c.close()


def test_state_json_has_enums_as_text_pairs_as_objects_and_no_nan():
    s = State(transport=TransportState.COUNT_IN, health=Health.STALLED, bpm=math.nan,
              output_gain_db=(("foh", -3.0),), limited=(("ears", 12),),
              mix=(StemLevel("bass", math.inf, False, False, (("foh", -1.5),)),))
    text = state_json(s)
    assert "\n" not in text
    got = json.loads(text)
    assert got["transport"] == "count-in" and got["health"] == "stalled"
    assert got["bpm"] is None and got["mix"][0]["gain_db"] is None
    assert got["output_gain_db"] == {"foh": -3.0} and got["limited"] == {"ears": 12}
    assert got["mix"][0]["sends"] == {"foh": -1.5}
    assert got["record"]["armed"] == [] and got["record"]["left_s"] is None


def test_a_socket_path_that_cannot_be_bound_leaves_the_box_playing(tmp_path, library, jack):  # noqa: F811
    position_song(library, "one", bars=4)
    (tmp_path / "taken").write_text("not a socket")
    config = Config(cache=tmp_path / "cache", device="jackhat", library=library,
                    **{**CONFIG, "format": "FLOAT_LE"})
    d = Daemon(config, state_path=tmp_path / "st.json", socket_path=tmp_path / "taken")
    t = threading.Thread(target=d.run)
    t.start()
    try:
        assert wait_for(lambda: d.player is not None and d.player.engine.periods > 0, 15)
        assert d.remote is None
        assert (tmp_path / "taken").read_text() == "not a socket"       # never removed
    finally:
        d.request_stop()
        t.join(10)



def test_a_reply_waits_two_periods_from_after_the_send_not_from_before_it():
    """The state read, a period published, then the command sent (the sending thread was
    descheduled between): the next period began before it and says nothing of it; the one
    after takes it and refuses it. Counted from the read before the send, the first would
    settle it as taken (seen under load)."""
    from appliance.control.remote_pending import Pending, settle
    read, published = State(output_frame=0), State(output_frame=256)
    p = Pending.sent("client", 7, "Jump", read, published, now=0.0)
    waiting, settled = settle([p], State(output_frame=512), now=0.01)   # began before it
    assert waiting == [p] and settled == []
    refused = State(output_frame=768, refusals=1, rejected="Jump: no section 'Bridge'")
    waiting, [(_, answer)] = settle(waiting, refused, now=0.02)
    assert waiting == [] and answer == {"id": 7, "ok": False, "error": "Jump: no section 'Bridge'"}
