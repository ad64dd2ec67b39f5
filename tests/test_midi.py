"""MIDI in: ports found by name through mido (a backend module of port subclasses), and
what each message means."""
from __future__ import annotations

import logging

import mido
import pytest

import midi_backend
from appliance.config import load_config
from appliance.config.midi_map import MidiMap, MidiSpec
from appliance.control.midi import MidiPorts
from appliance.vocab import commands as c
from appliance.vocab.names import parse_command
from conftest import write_config

MIDI = """
[midi]
in = ["mc6"]
channel = 0

[[midi.map]]
note = 60
command = "toggle-play"

[[midi.map]]
cc = 80
value = 127
command = "next-song"

[[midi.map]]
cc = 81
command = "vamp"

[[midi.map]]
cc = 7
set = "click-level"
range_db = [-60, 6]

[[midi.map]]
cc = 11
set = "level foh"
range_db = [-30, 0]

[[midi.map]]
cc = 12
set = "level click bass"
range_db = [-12, 12]
"""


@pytest.fixture
def spec(tmp_path):
    return load_config(write_config(tmp_path / "c.toml", MIDI)).midi


def msgs(data: bytes) -> list:
    p = mido.Parser()
    p.feed(data)
    return list(p)


def test_notes_ccs_and_program_changes_become_commands(spec):
    m = MidiMap(spec)
    said = lambda data: [cmd for msg in msgs(data) for cmd in m.commands(msg)]
    assert said(bytes([0x90, 60, 100])) == [c.TogglePlay()]
    assert said(bytes([0x90, 60, 0])) == []                         # a note off, by velocity 0
    assert said(bytes([0xB0, 80, 127, 0xB0, 80, 0])) == [c.NextSong()]   # only the value given
    assert said(bytes([0xB0, 81, 64, 0xB0, 81, 0])) == [c.Vamp()]   # any value above 0
    assert said(bytes([0xB0, 7, 127, 0xB0, 7, 0])) == [c.SetGain("click", 6.0),
                                                        c.SetGain("click", -60.0)]
    assert said(bytes([0xB3, 11, 64])) == [c.SetOutputGain("foh", -14.9)]
    assert said(bytes([0xB0, 12, 127])) == [c.SetGain("bass", 12.0, output="click")]
    assert said(bytes([0xC0, 4])) == [c.SelectSong(5)]
    assert said(bytes([0xB0, 0, 0, 0xB0, 32, 1, 0xC0, 2])) == [c.SelectSong(131)]   # bank 1
    assert said(bytes([0xFA, 0xF8, 0xFC])) == []                    # an outside clock: ignored


def test_a_channel_filter_and_follow_clock(tmp_path):
    spec = load_config(write_config(tmp_path / "c.toml", MIDI.replace(
        "channel = 0", "channel = 2\nfollow_clock = true"))).midi
    m = MidiMap(spec)
    said = lambda data: [cmd for msg in msgs(data) for cmd in m.commands(msg)]
    assert said(bytes([0x90, 60, 100])) == []                       # channel 1: not ours
    assert said(bytes([0x91, 60, 100])) == [c.TogglePlay()]
    assert said(bytes([0xFA, 0xFC, 0xFB])) == [c.Play(), c.Stop(), c.Resume()]


def test_garbage_running_status_and_sysex_floods_do_no_harm(spec):
    m = MidiMap(spec)
    data = bytes([0x12, 0x34, 0xF7])                                  # stray data bytes
    data += bytes([0xF0] + [0x11] * 5000 + [0xF7]) * 20                # a SysEx flood
    data += bytes([0x90, 60, 100, 60, 0])                             # running status
    data += bytes([0xF4, 0xF5, 0xB0, 80])                             # undefined, cut short
    cmds = [cmd for msg in msgs(data) for cmd in m.commands(msg)]
    assert cmds == [c.TogglePlay()]


@pytest.mark.parametrize("text, says", [
    ('[[midi.map]]\nnote = 60\ncommand = "dance"\n', "midi.map[1].command: unknown command 'dance'"),
    ('[[midi.map]]\nnote = 160\ncommand = "play"\n', "midi.map[1].note: must be"),
    ('[[midi.map]]\ncc = 7\nset = "level monitor"\n', "midi.map[1].set: no output 'monitor'"),
    ('[[midi.map]]\ncc = 7\nset = "level monitor bass"\n',
     "midi.map[1].set: no output 'monitor'"),
    ('[[midi.map]]\ncc = 7\nset = "menu"\n', "midi.map[1].set: 'menu' is not a level "
     "(levels: click-level, level OUTPUT, level OUTPUT STEM, key, tempo, bpm, intensity)"),
    ('[[midi.map]]\ncc = 7\n', "midi.map[1].command: give either command or set"),
    ('[midi]\nin = [3]\n', "midi.in: must list port names"),
    ('[midi]\nchannel = 17\n', "midi.channel: must be"),
])
def test_bad_midi_config_is_a_warning_naming_the_field_and_the_rest_works(tmp_path, text, says):
    if text.startswith("[[midi.map]]"):
        text = "[midi]\n" + text + '[[midi.map]]\nnote = 61\ncommand = "stop"\n'
    path = write_config(tmp_path / "c.toml", text)
    config = load_config(path)                           # the box still starts
    assert any(says in str(p) and str(path) in str(p) and str(p).endswith("; left out")
               for p in config.warnings), [str(p) for p in config.warnings]
    if "note = 61" in text:
        assert [r.number for r in config.midi.rules] == [61]    # the good mapping stays


@pytest.fixture
def backend(monkeypatch):
    monkeypatch.setenv("MIDO_BACKEND", "midi_backend")
    midi_backend.reset()
    yield midi_backend
    midi_backend.reset()


def test_ports_are_found_by_name_and_found_again_when_replugged(spec, backend, caplog):
    sent: list[c.Command] = []
    ports = MidiPorts(spec, send=sent.append)
    caplog.set_level(logging.INFO, "backline")
    ports.scan()
    ports.scan()
    assert caplog.text.count("MIDI in 'mc6': no such port (ports: none)") == 1   # said once
    mc6 = backend.plug("Morningstar MC6 MIDI 1")
    ports.scan()
    assert list(ports.inputs) == ["Morningstar MC6 MIDI 1"]
    mc6.feed(bytes([0x90, 60, 100]))
    assert sent == [c.TogglePlay()]
    backend.unplug("Morningstar MC6 MIDI 1")
    ports.scan()
    assert ports.inputs == {} and "went away" in caplog.text
    backend.plug("Morningstar MC6 MIDI 1").feed(bytes([0xC0, 1]))   # not open yet: lost
    ports.scan()
    backend.DEVICES["Morningstar MC6 MIDI 1"].feed(bytes([0xC0, 2]))
    assert sent == [c.TogglePlay(), c.SelectSong(3)]
    ports.close()


def test_no_midi_system_is_said_once_and_the_box_goes_on(spec, monkeypatch, caplog):
    monkeypatch.setenv("MIDO_BACKEND", "no_such_midi_backend")
    ports = MidiPorts(spec, send=lambda cmd: None)
    ports.scan()
    ports.scan()
    assert caplog.text.count("MIDI is not available") == 1


def test_midi_learn_maps_the_next_pedal_and_the_config_keeps_it(spec, backend, tmp_path):
    from appliance.config.midi_map import rule_toml
    sent: list[c.Command] = []
    learned = []
    ports = MidiPorts(spec, send=sent.append, on_learned=lambda r, t: learned.append((r, t)))
    mc6 = backend.plug("MC6")
    ports.scan()
    ports.learning = "next-song"
    mc6.feed(bytes([0xB0, 90, 0, 0xB0, 90, 127]))       # a release is not a press
    assert sent == [] and ports.learning == ""
    (rule, text), = learned
    assert (rule.kind, rule.number, rule.value, text) == ("cc", 90, 127, "next-song")
    mc6.feed(bytes([0xB0, 90, 127]))
    assert sent == [c.NextSong()]
    assert ports.map.trigger_of(c.NextSong()) == "cc 80 = 127"   # the first way still works
    cfg = tmp_path / "c.toml"
    cfg.write_text(MIDI + "[recording]\nformat = \"24\"\n" + rule_toml(rule, text))
    again = MidiMap(load_config(cfg).midi)               # after a restart
    assert [cmd for m in msgs(bytes([0xB0, 90, 127])) for cmd in again.commands(m)] == \
        [c.NextSong()]
    ports.close()


def test_midi_learn_from_the_menu(tmp_path):
    from appliance.config.layout import Controls
    from appliance.service.panel import Panel
    from appliance.vocab.state import StemLevel, State
    boxed: list[c.Command] = []
    panel = Panel(Controls(), send=lambda cmd: None, box=boxed.append, songs=lambda: [],
                  setlists=lambda: [], outputs=("foh",),
                  midi_trigger=lambda cmd: "note 60" if cmd == c.TogglePlay() else "")
    playing = State(count=2, sections=("Verse", "Chorus"),
                    mix=(StemLevel("click", 0, False, False), StemLevel("bass", 0, False, False)))
    panel.command(c.OpenMenu())
    items = panel.view(playing).items
    panel.command(c.MenuMove(items.index("MIDI learn")))
    panel.command(c.MenuSelect())
    items = panel.view(playing).items
    assert "toggle-play: note 60" in items and "stop: -" in items
    assert items[-8:] == ("jump Verse @bar: -", "jump Chorus @bar: -", "select-song 1: -",
                          "select-song 2: -", "mute bass: -", "unmute bass: -",
                          "solo bass: -", "unsolo bass: -")
    panel.command(c.MenuMove(items.index("jump Chorus @bar: -")))
    panel.command(c.MenuSelect())
    assert boxed == [c.LearnMidi("jump Chorus @bar")]    # by name: it reads back in the config
    assert panel.view(playing).title == "Press a pedal"
    panel.command(c.MenuBack())                          # gave up: stop listening
    assert boxed[-1] == c.LearnMidi("") and panel.view(playing).title == "MIDI learn"


def test_a_learned_name_with_quotes_reads_back_from_the_config(tmp_path):
    from appliance.config.midi_map import MidiRule, rule_toml
    text = 'jump Say "Hey" \\o/ @bar'
    rule = MidiRule("note", 62, command=parse_command(text))
    cfg = write_config(tmp_path / "c.toml", MIDI + rule_toml(rule, text))
    config = load_config(cfg)
    assert not config.warnings
    assert config.midi.rules[-1].command == c.Jump('Say "Hey" \\o/')


def test_real_virtual_ports_through_rtmidi_on_a_jack_server():
    """End to end with python-rtmidi's JACK backend: a virtual foot controller and a
    virtual lighting desk, found by name like real ones."""
    from alsa_doubles import Jack
    from appliance.config.midi_map import MidiRule
    from appliance.vocab.names import parse_command
    from conftest import wait_for
    with Jack(period=256, channels=2):
        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        spec = MidiSpec(inputs=("mc6 test",), outputs=("lights test",),
                        rules=(MidiRule("note", 60, command=parse_command("toggle-play")),))
        sent: list[c.Command] = []
        with backend.open_output("MC6 test", virtual=True) as pedal, \
                backend.open_input("Lights test", virtual=True) as desk, \
                MidiPorts(spec, send=sent.append, backend=backend) as ports:
            ports.scan()
            assert list(ports.inputs) == ["RtMidiOut Client:MC6 test"]
            pedal.send(mido.Message("note_on", note=60, velocity=100))
            assert wait_for(lambda: sent == [c.TogglePlay()])
            ports.send(mido.Message("start"))
            got: list = []
            assert wait_for(lambda: got.extend(desk.iter_pending()) or got)
            assert got[0].type == "start"


def test_a_burst_of_20000_ccs_is_applied_a_bounded_few_a_period_and_the_last_value_counts(
        spec, backend, library, tmp_path, monkeypatch):
    """A sequencer sweeps the click fader 20 000 times with two next-song messages in the
    burst: each period applies at most COMMANDS_PER_PERIOD commands, the click ends at
    the last CC's value and both song changes arrive."""
    from alsa_doubles import Jack, jack_pcm, use_config
    from appliance.audio.engine import COMMANDS_PER_PERIOD
    from appliance.audio.player import Player
    from appliance.config import Config
    from appliance.errors import Problems
    from conftest import wait_for
    from transport_rig import CONFIG, position_song
    for name in ("one", "two", "three"):
        position_song(library, name, bars=2)
    (library / "setlists" / "gig.setlist").write_text("one\ntwo\nthree\n")
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2))
    config = Config(cache=tmp_path / "cache", **{**CONFIG, "format": "FLOAT_LE"})
    with Jack(period=256, channels=2), \
            Player.open(library / "setlists" / "gig.setlist", config, Problems(),
                        device="jackhat") as p, \
            MidiPorts(spec, send=p.send) as ports:
        mc6 = backend.plug("MC6")
        ports.scan()
        assert wait_for(lambda: p.engine.periods > 10)
        start = p.engine.periods
        data = bytearray()
        for i in range(20000):
            data += bytes([0xB0, 7, i % 128])
            if i in (7000, 14000):
                data += bytes([0xB0, 80, 127])          # next song
        data += bytes([0xB0, 7, 0])                     # the last value: -60 dB
        mc6.feed(bytes(data))
        assert wait_for(lambda: p.state.index == 3 and p.transport.click_db == -60.0)
        assert wait_for(lambda: not len(p.engine.inbox))
        end = p.engine.periods
        applied = p.engine.applied[start % 65536: end % 65536]
        assert 0 < applied.max() <= COMMANDS_PER_PERIOD
        assert applied.sum() < 20000 // 10            # coalesced: far fewer than sent
