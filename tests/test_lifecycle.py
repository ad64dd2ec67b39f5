"""Everything that holds a thread, a device, a port or a process is a context manager:
leaving the `with` by an exception ends it (its threads are gone, its ports closed, its
process exited) and the exception goes on; leaving it a second time does nothing more."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from appliance.audio.player import Player
from appliance.audio.record.recorder import Recorder
from appliance.audio.record.takes import TakeWriter
from appliance.config import Config
from appliance.control.midi import MidiPorts
from appliance.control.midi_out import ClockPlanner, ClockSender
from appliance.errors import Problems
from appliance.service.daemon import Daemon
from appliance.vocab.segments import SegmentLog

from alsa_doubles import Jack, file_pcm, use_config
from conftest import wait_for
from test_daemon import jack, systemd  # noqa: F401 (fixtures)
from test_midi import backend, spec  # noqa: F401 (fixtures)
from transport_rig import CONFIG, position_song


class Boom(Exception):
    """What a failing block raises: it must come out of the `with` as it went in."""


def _ours(before: set[threading.Thread]) -> list[threading.Thread]:
    """The threads started since `before` that still run."""
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]


def _player(library: Path, tmp_path: Path, monkeypatch) -> Player:
    folder = position_song(library, "s", bars=1)
    use_config(monkeypatch, tmp_path, file_pcm("fakehat", tmp_path / "out.raw"))
    config = Config(cache=tmp_path / "cache", **{**CONFIG, "format": "FLOAT_LE"})
    return Player.open(folder, config, Problems(), device="fakehat")


def test_a_player_block_starts_it_and_an_exception_stops_every_thread(library, tmp_path,
                                                                       monkeypatch):
    before = set(threading.enumerate())
    with pytest.raises(Boom):
        with _player(library, tmp_path, monkeypatch) as p:
            assert p.engine.running and p.writer.is_alive() and p.bank.is_alive()
            assert wait_for(lambda: p.state.output_frame > 0)
            raise Boom
    assert not p.engine.running and not p.writer.is_alive() and not p.bank.is_alive()
    assert _ours(before) == []
    written = (tmp_path / "out.raw").stat().st_size
    p.__exit__(None, None, None)                       # a second time: nothing more
    assert not p.engine.running and (tmp_path / "out.raw").stat().st_size == written


def test_an_engine_block_does_not_start_it_and_stops_it_on_an_exception(library, tmp_path,
                                                                         monkeypatch):
    p = _player(library, tmp_path, monkeypatch)
    try:
        with pytest.raises(Boom):
            with p.engine as engine:
                assert engine is p.engine and not engine.running
                engine.start()
                assert wait_for(lambda: engine.periods > 0)
                raise Boom
        assert not engine.running
        periods = engine.periods
        engine.__exit__(None, None, None)
        assert not engine.running and engine.periods == periods
    finally:
        p.stop()                                       # its loader's disk threads


def test_a_take_writer_block_ends_its_thread_on_an_exception(tmp_path):
    with pytest.raises(Boom):
        with TakeWriter(Recorder({}), tmp_path, rate=48000) as writer:
            writer.start()
            assert writer.is_alive()
            raise Boom
    assert not writer.is_alive()
    writer.__exit__(None, None, None)
    assert not writer.is_alive()


def test_a_midi_ports_block_closes_every_port_and_its_thread_on_an_exception(
        spec, backend):  # noqa: F811 (the fixtures' values)
    sent: list = []
    backend.plug("MC6")
    with pytest.raises(Boom):
        with MidiPorts(spec, send=sent.append) as ports:
            ports.start()
            assert wait_for(lambda: "MC6" in ports.inputs)
            port = ports.inputs["MC6"]
            assert not port.closed
            raise Boom
    assert port.closed and ports.inputs == {} and not ports.is_alive()
    backend.DEVICES["MC6"].feed(bytes([0x90, 60, 100]))   # a closed port hears nothing
    assert sent == []
    ports.__exit__(None, None, None)
    assert port.closed and not ports.is_alive()


def test_a_clock_sender_block_ends_its_thread_on_an_exception():
    planner = ClockPlanner(lambda index: None, 48000)
    with pytest.raises(Boom):
        with ClockSender(SegmentLog(), planner, send=lambda msg: None,
                         buffer_frames=lambda: 0, period=256) as sender:
            sender.start()
            raise Boom
    assert not sender.is_alive()
    sender.__exit__(None, None, None)
    assert not sender.is_alive()


def test_a_jack_block_stops_the_server_on_an_exception():
    with pytest.raises(Boom):
        with Jack(period=256, channels=2) as server:
            assert server.proc.poll() is None
            raise Boom
    assert server.proc.poll() is not None
    server.__exit__(None, None, None)
    assert server.proc.poll() is not None


def test_a_daemon_block_stops_the_service_and_its_player_on_an_exception(
        library, tmp_path, jack, systemd):  # noqa: F811 (the fixtures' values)
    song = position_song(library, "song", bars=2)
    config = Config(cache=tmp_path / "cache", device="jackhat", library=tmp_path / "lib",
                    **{**CONFIG, "format": "FLOAT_LE"})
    d = Daemon(config, state_path=tmp_path / "st.json", target=song)
    codes: list[int] = []
    threading.Thread(target=lambda: codes.append(d.run())).start()
    with pytest.raises(Boom):
        with d as entered:
            assert entered is d and systemd.wait_for("READY=1")
            player = d.player
            assert player.engine.running
            raise Boom
    assert codes == [0]                                # run() had returned when the block ended
    assert not player.engine.running and not player.bank.is_alive()
    assert systemd.wait_for("STOPPING=1", 1)           # an orderly stop, not a kill
    d.__exit__(None, None, None)
    assert codes == [0] and sum("STOPPING=1" in m for m in systemd.messages) == 1


def _show_of(library: Path, tmp_path: Path):
    from appliance.audio.disk.show import Show
    folder = position_song(library, "s", bars=1)
    return Show.of_song(folder), Config(cache=tmp_path / "cache", **CONFIG)


def test_a_song_bank_block_stops_its_loader_and_closes_its_songs(library, tmp_path):
    from appliance.audio.disk.show import SongBank
    show, config = _show_of(library, tmp_path)
    before = set(threading.enumerate())
    with pytest.raises(Boom):
        with SongBank(show, config, 128) as bank:
            assert not bank.is_alive()                 # entering does not start it
            bank.start()
            bank.want((0,))
            assert wait_for(lambda: bank.get(0) is not None, 10)
            song = bank.get(0)
            assert song.disks and all(d.is_alive() for d in song.disks)
            raise Boom
    assert not bank.is_alive() and bank.get(0) is None
    assert song.disks == () and _ours(before) == []
    bank.__exit__(None, None, None)                    # a second time: nothing more
    assert not bank.is_alive()


def test_a_loaded_song_block_stops_its_disk_threads_and_closes_its_files(library, tmp_path):
    from appliance.audio.disk.loaded import load
    show, config = _show_of(library, tmp_path)
    before = set(threading.enumerate())
    with pytest.raises(Boom):
        with load(show.entries[0].folder, config, Problems(), block=128) as song:
            assert song.disks == ()                    # entering does not start it
            song.start()
            assert song.disks and all(d.is_alive() for d in song.disks)
            raise Boom
    assert song.disks == () and _ours(before) == []
    assert all(r._file.closed for r in song.stream.readers)
    song.__exit__(None, None, None)                    # a second time: nothing more
    assert song.disks == ()
