"""MIDI clock out, planned from what the transport logged it played: every tick on the
tempo map's frame (changes and ramps included), Start at bar 1, Stop/SPP/Continue at jumps."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from appliance.audio.disk.show import Show
from appliance.control.midi_out import ClockPlanner
from appliance.errors import Problems
from appliance.timeline.song import load_song
from appliance.vocab import commands as c
from appliance.vocab.segments import SegmentLog

from transport_rig import BAR, close, played, position_song, rig

TEMPI = ('[[tempo]]\nbar = 3\nbpm = 90\n'
         '[[tempo]]\nbar = 5\nbpm = 150\nramp = true\n'
         '[[tempo]]\nbar = 6\nmeter = "7/8"\n')


def plan(log: SegmentLog, song, rate: int = 48000) -> list[tuple[int, str]]:
    planner = ClockPlanner(lambda i: song, rate)
    _, rows = log.rows(0)
    msgs = [m for row in rows for m in planner.plan(row)] + planner.stopped()
    return [(f, m.type if m.type != "songpos" else f"songpos {m.pos}") for f, m in msgs]


def test_ticks_sit_on_the_tempo_maps_frames_through_changes_and_a_ramp(library, tmp_path):
    folder = position_song(library, "s", bars=7, count_in=1, extra=TEMPI)
    song = load_song(folder, Problems())
    t = rig(Show.of_song(folder), tmp_path)
    count_in = BAR                                   # one bar of 4/4 at 120
    log = played(t, count_in + song.tempo.frame_at(Fraction(26), 48000) + 4096,
                 {0: [c.Play()]})
    msgs = plan(log, song)
    ticks = [f for f, m in msgs if m == "clock"]
    song_ticks = [f - count_in for f in ticks if f >= count_in]
    ideal = [song.tempo.frame_at(Fraction(k, 24), 48000) for k in range(len(song_ticks))]
    assert song_ticks == ideal                       # drift 0: every tick, ramp included
    assert len(song_ticks) > 24 * 25
    assert msgs[[m for _, m in msgs].index("start")][0] == count_in      # Start at bar 1
    lead = [f for f in ticks if f < count_in]        # the count-in ticks at its tempo
    assert len(lead) == 4 * 24 and lead[0] == 0 and np.all(np.diff(lead) == 1000)
    _, rows = log.rows(0)
    assert msgs[-1] == (rows[-1][0] + rows[-1][2], "stop")        # where the sound ended
    close(t)


def test_a_jump_is_stop_song_position_and_continue_where_it_happened(library, tmp_path):
    folder = position_song(library, "s", bars=8)
    song = load_song(folder, Problems())
    t = rig(Show.of_song(folder), tmp_path)
    log = played(t, 2 * BAR, {0: [c.Play()], 128 * 300: [c.Jump("C", at=c.At.BAR)]})
    msgs = plan(log, song)
    i = [m for _, m in msgs].index("stop")
    assert msgs[i:i + 3] == [(BAR, "stop"), (BAR, "songpos 64"), (BAR, "continue")]
    ticks = [f for f, m in msgs if m == "clock"]
    assert ticks[96] == BAR and ticks[95] == BAR - 1000              # bar 5 on the next tick
    assert np.all(np.diff(ticks) == 1000)            # 120 bpm: a tick every 1000 frames
    close(t)


def test_section_messages_leave_on_the_sections_first_frame(library, tmp_path):
    folder = position_song(library, "s", bars=6)
    text = (folder / "song.toml").read_text().replace(
        'name = "B"\nbar = 3\n', 'name = "B"\nbar = 3\nmidi = ["cc 20 64", "note 36 100 ch 10"]\n')
    (folder / "song.toml").write_text('midi_channel = 3\nmidi = ["program 7"]\n' + text)
    song = load_song(folder, Problems())
    assert [m.type for m in song.midi] == ["program_change"] and song.midi[0].channel == 2
    t = rig(Show.of_song(folder), tmp_path)
    planner = ClockPlanner(lambda i: song, 48000)
    log = played(t, 3 * BAR, {0: [c.Play()]})
    _, rows = log.rows(0)
    msgs = [m for row in rows for m in planner.plan(row)]
    cues = [(f, m.type, m.channel) for f, m in msgs if m.type in ("control_change", "note_on")]
    assert cues == [(2 * BAR, "control_change", 2), (2 * BAR, "note_on", 9)]
    at = [m.type for f, m in msgs if f == 2 * BAR]
    assert at == ["control_change", "note_on", "clock"]      # the cue, then the beat
    close(t)


def test_a_bad_midi_message_in_a_song_is_a_warning_and_the_song_plays(library):
    folder = position_song(library, "s", bars=1)
    text = 'midi = ["program 7", "cc 300 1", "sysex F0 90 F7", "wobble"]\n'
    (folder / "song.toml").write_text(text + (folder / "song.toml").read_text())
    problems = Problems()
    song = load_song(folder, problems)
    assert song is not None and len(song.midi) == 1
    said = [str(p) for p in problems]
    assert any("midi[2]: 'cc 300 1': 300 is outside 0-127; left out" in s for s in said)
    assert any("midi[3]: 'sysex F0 90 F7': sysex starts with F0" in s for s in said)
    assert any("midi[4]: 'wobble': not a MIDI message" in s for s in said)
    assert all(p.warning for p in problems)


def test_a_songs_midi_file_follows_the_song_through_a_jump(library, tmp_path):
    import mido
    folder = position_song(library, "s", bars=8)
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1_000_000),   # 60 bpm: ignored
                            mido.Message("note_on", note=10, velocity=1, time=960),      # qn 2
                            mido.Message("note_on", note=11, velocity=1, time=2880),     # qn 8
                            mido.Message("note_on", note=12, velocity=1, time=4320)])    # qn 17
    mid.tracks.append(track)
    mid.save(str(folder / "lights.mid"))
    (folder / "song.toml").write_text('midi_file = "lights.mid"\n' +
                                      (folder / "song.toml").read_text())
    song = load_song(folder, Problems())
    t = rig(Show.of_song(folder), tmp_path)
    log = played(t, 2 * BAR, {0: [c.Play()], 128 * 300: [c.Jump("C", at=c.At.BAR)]})
    _, rows = log.rows(0)
    planner = ClockPlanner(lambda i: song, 48000)
    notes = [(f, m.note) for row in rows for f, m in planner.plan(row) if m.type == "note_on"]
    assert notes == [(BAR // 2, 10), (BAR + BAR // 4, 12)]    # qn 8 was jumped over
    close(t)


def test_an_unreadable_midi_file_is_a_warning_and_the_song_plays(library):
    folder = position_song(library, "s", bars=1)
    (folder / "lights.mid").write_bytes(b"MThd garbage")
    (folder / "song.toml").write_text('midi_file = "lights.mid"\n' +
                                      (folder / "song.toml").read_text())
    problems = Problems()
    song = load_song(folder, problems)
    assert song is not None and song.midi_events == ()
    assert [p.warning for p in problems] == [True]
    assert "midi_file: lights.mid: not a readable MIDI file" in str(problems[0])


def test_time_code_quarter_frames_from_one_hour_at_bar_one(library, tmp_path):
    folder = position_song(library, "s", bars=4, count_in=1)
    song = load_song(folder, Problems())
    t = rig(Show.of_song(folder), tmp_path)
    log = played(t, BAR + 48000, {0: [c.Play()]})        # the count-in, then a second
    _, rows = log.rows(0)
    planner = ClockPlanner(lambda i: song, 48000, clock=False, mtc=25)
    msgs = [m for row in rows for m in planner.plan(row)] + planner.stopped()
    full = [(f, list(m.data)) for f, m in msgs if m.type == "sysex"]
    assert full == [(0, [0x7F, 0x7F, 1, 1, 0x20 | 0, 59, 58, 0])]   # 00:59:58:00 at 25 fps
    qf = [(f, m.frame_type, m.frame_value) for f, m in msgs if m.type == "quarter_frame"]
    assert len(qf) == 300 and all(b[0] - a[0] == 480 for a, b in zip(qf, qf[1:]))
    bar1 = qf.index((BAR, 0, 0))                         # bar 1: 01:00:00:00 begins
    assert [v for _, _, v in qf[bar1:bar1 + 8]] == [0, 0, 0, 0, 0, 0, 1, 0 | 1 << 1]
    assert [p for _, p, _ in qf[:16]] == list(range(8)) * 2
    assert not any(m.type in ("clock", "start", "stop") for _, m in msgs)
    close(t)
