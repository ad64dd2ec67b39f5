"""Hypothesis strategies for every file Backline reads, valid-shaped and broken.

Each format is generated two ways: as structured data with the real field names and
values that are sometimes right and sometimes hostile (NaN, ±inf, huge and negative
numbers, wrong types, unicode, empty strings, paths with `..`), and as raw text or bytes
(truncated, spliced, random). `toml_text` writes a dict as TOML itself, because TOML's
nan/inf and arrays of tables must reach the parser exactly as a musician could type them.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
from collections import Counter

import mido
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# -- profiles ---------------------------------------------------------------------------
# ci: bounded and derandomized, so a CI run is the same cases every time (the whole suite
# in about 30 s on a 2-core box). nightly: many more cases, random each run, no
# deadline. Chosen by HYPOTHESIS_PROFILE (default ci).
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                 HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=150, derandomize=True, deadline=None,
                          suppress_health_check=_SLOW_IS_FINE, print_blob=True)
settings.register_profile("nightly", max_examples=2000, deadline=None,
                          suppress_health_check=_SLOW_IS_FINE, print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
DAEMON_EXAMPLES = 2 if PROFILE == "ci" else 20   # each one starts a whole daemon
CASES: Counter = Counter()     # generated cases per test, for pytest's summary

# -- values -----------------------------------------------------------------------------
NASTY_FLOATS = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324,
                                -0.0, 1e-9, 0.5])
NASTY_INTS = st.sampled_from([0, -1, -(2 ** 63), 2 ** 63 - 1, 2 ** 64, 10 ** 30, 10 ** 400])
PATHS = st.sampled_from(["", ".", "..", "../x.wav", "../../etc/passwd", "/etc/passwd",
                         "a/../../b.wav", "a.wav", "sub/a.wav", "é🎸.wav", " ", "a\x00b.wav",
                         "con:", "-", "song.toml", "a" * 300 + ".wav", "d/" * 2100])
TEXT = st.one_of(st.text(max_size=12), PATHS,
                 st.sampled_from(["foh", "ears", "click", "FOH", "foh ears", "stop", "4/4"]))
SCALARS = st.one_of(
    st.booleans(), st.integers(-10 ** 6, 10 ** 6), NASTY_INTS,
    st.floats(allow_nan=True, allow_infinity=True), NASTY_FLOATS, TEXT,
    st.dates(), st.times(), st.datetimes())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)


def maybe(good: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the right kind of value for a field, sometimes anything at all; a list's
    items too."""
    return st.one_of(good, good, good, VALUES, st.lists(st.one_of(good, VALUES), max_size=3))


def with_junk(fields: dict) -> st.SearchStrategy:
    """A table whose known fields are each present or not, plus the odd unknown key."""
    return st.builds(lambda known, junk: {**known, **junk},
                     st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()}),
                     st.dictionaries(TEXT, VALUES, max_size=1))


def tables(table: st.SearchStrategy, max_size: int = 4) -> st.SearchStrategy:
    """An array of tables ([[x]]), or now and then something that is not one."""
    return st.one_of(st.lists(table, max_size=max_size), st.lists(table, max_size=max_size),
                     VALUES)


# -- TOML -------------------------------------------------------------------------------
def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_string(str(k))} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_text(data: dict) -> str:
    """`data` as TOML a parser reads back to the same values (one `key = value` a line)."""
    return "".join(f"{_string(str(k))} = {_value(v)}\n" for k, v in data.items())


def mutated(text: st.SearchStrategy) -> st.SearchStrategy:
    """Text as a crash, an editor or a bad copy leaves it: cut short, spliced, garbled."""
    @st.composite
    def cut(draw: st.DrawFn) -> str:
        t = draw(text)
        at = draw(st.integers(0, len(t)))
        how = draw(st.sampled_from(["truncate", "insert", "delete"]))
        if how == "truncate":
            return t[:at]
        if how == "insert":
            return t[:at] + draw(st.text(max_size=8)) + t[at:]
        return t[:at] + t[at + draw(st.integers(1, 8)):]
    return cut()


def raw_bytes(text: st.SearchStrategy) -> st.SearchStrategy:
    """Bytes for a text file: mutated text, random bytes, invalid UTF-8."""
    return st.one_of(mutated(text).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.binary(max_size=64),
                     st.just(b"\xff\xfe\x00bad"))


# -- song.toml --------------------------------------------------------------------------
BARS = st.one_of(st.integers(1, 12), st.integers(-3, 3))
BPM = st.one_of(st.integers(10, 999), st.floats(10, 999), st.integers(0, 2000))
METERS = st.sampled_from(["4/4", "3/4", "7/8", "12/8", "6/8", "0/4", "4/0", "4/3", "x", "",
                          "999/4", "4/1024", "-1/4"])
MIDI_TEXT = st.one_of(
    st.sampled_from(["program 5", "cc 7 100", "note 60 127", "note-off 60", "program 128",
                     "cc -1 0", "sysex F0 7E 7F 06 01 F7", "sysex F0 F7", "sysex F0 FF F7",
                     "program 1 ch 17", "program 1 ch 0", "sysex", "ch", "", "program 1e9"]),
    st.text(max_size=10))
NAMES = st.sampled_from(["foh", "ears", "click", "bad name", "", "x" * 40, "é", "foh-2"])
ROUTE = st.one_of(
    st.lists(NAMES, max_size=3), st.lists(st.one_of(NAMES, VALUES), max_size=3),
    st.dictionaries(NAMES, st.lists(st.integers(-2, 4), max_size=3),
                    max_size=3),
    VALUES)
STEM_FILES = st.one_of(st.just("a.wav"), st.just("b.wav"), PATHS)

TEMPO = with_junk({"bar": BARS, "beat": st.one_of(st.integers(1, 4), st.floats(1, 5)),
                   "bpm": BPM, "ramp": st.booleans(), "meter": METERS})
FIRST_TEMPO = st.fixed_dictionaries({"bar": st.just(1), "bpm": st.integers(60, 180)},
                                    optional={"meter": METERS})
SECTION = with_junk({"name": TEXT, "bar": BARS, "beat": st.integers(1, 4),
                     "midi": st.lists(MIDI_TEXT, max_size=2)})
STEM = with_junk({"file": STEM_FILES, "name": TEXT, "gain_db": st.floats(-130, 30),
                  "muted": st.booleans(), "route": ROUTE})
PART = with_junk({"name": st.one_of(st.sampled_from(["drums", "bass", "keys"]), TEXT),
                  "gain_db": st.floats(-130, 30), "muted": st.booleans(), "route": ROUTE,
                  "program": st.one_of(st.integers(-1, 128), NASTY_INTS)})
PARTS = st.one_of(st.booleans(), with_junk({
    "seed": st.one_of(st.integers(-1, 2 ** 32), NASTY_INTS),
    "intensity": st.one_of(st.floats(-1, 2), NASTY_FLOATS)}))
CLICK = with_junk({"enabled": st.booleans(), "level_db": st.floats(-70, 20),
                   "subdivision": st.integers(0, 5), "eighths": st.booleans(),
                   "output": NAMES})


@st.composite
def song_dicts(draw: st.DrawFn) -> dict:
    """A song.toml's data: each known field right, wrong or missing, arrays of tables or not."""
    top = draw(with_junk({
        "title": TEXT, "key": TEXT, "count_in": st.integers(-1, 9),
        "length_bars": st.one_of(BARS, NASTY_INTS),
        "midi_channel": st.integers(0, 17), "midi": st.lists(MIDI_TEXT, max_size=3),
        "midi_file": st.sampled_from(["t.mid", "missing.mid", "../t.mid", ""]),
        "tempo_map": st.sampled_from(["t.mid", "missing.mid", "a.wav", ""]),
        "click": CLICK}))
    tempo = draw(st.lists(TEMPO, max_size=3))
    if draw(st.booleans()):
        tempo = [draw(FIRST_TEMPO), *tempo]
    if tempo or draw(st.booleans()):
        top["tempo"] = tempo if draw(st.integers(0, 9)) else draw(VALUES)
    for key, table in (("section", SECTION), ("stem", STEM), ("part", PART)):
        if draw(st.booleans()):
            top[key] = draw(tables(table))
    if draw(st.integers(0, 3)) == 0:
        top["parts"] = draw(PARTS)
    return top


GOOD_METERS = st.sampled_from(["4/4", "3/4", "7/8", "12/8", "6/8", "5/4"])
GOOD_TEMPO = st.fixed_dictionaries(
    {"bar": st.integers(2, 12), "bpm": st.one_of(st.integers(10, 999), st.floats(10, 999))},
    optional={"ramp": st.booleans(), "meter": GOOD_METERS})
GOOD_SECTION = st.fixed_dictionaries({"name": st.text(max_size=12), "bar": st.integers(1, 12)},
                                     optional={"beat": st.integers(1, 3),
                                               "midi": st.lists(MIDI_TEXT, max_size=2)})
GOOD_ROUTE = st.one_of(
    st.lists(st.sampled_from(["foh", "ears", "click"]), min_size=1, unique=True),
    st.dictionaries(st.sampled_from(["foh", "ears"]),
                    st.lists(st.integers(1, 2), min_size=1, max_size=2), min_size=1))
GOOD_STEM = st.fixed_dictionaries({"file": st.sampled_from(["a.wav", "b.wav"])}, optional={
    "name": st.text(max_size=8), "gain_db": st.floats(-120, 24), "muted": st.booleans(),
    "route": GOOD_ROUTE})
GOOD_CLICK = st.fixed_dictionaries({}, optional={
    "enabled": st.booleans(), "level_db": st.floats(-60, 12), "subdivision": st.integers(1, 4),
    "eighths": st.booleans(), "output": st.sampled_from(["click", "foh", "ears"])})
FIRST_GOOD_TEMPO = st.fixed_dictionaries({"bar": st.just(1), "bpm": st.integers(40, 240)},
                                         optional={"meter": GOOD_METERS})
GOOD_SONG = st.fixed_dictionaries(
    {"tempo": st.builds(lambda first, rest: [first, *sorted(rest, key=lambda t: t["bar"])],
                        FIRST_GOOD_TEMPO,
                        st.lists(GOOD_TEMPO, max_size=3, unique_by=lambda t: t["bar"])),
     "stem": st.lists(GOOD_STEM, min_size=1, max_size=3,
                      unique_by=lambda t: t.get("name", t["file"]))},
    optional={"title": st.text(max_size=12), "key": st.text(max_size=3),
              "count_in": st.integers(0, 8), "length_bars": st.integers(1, 8),
              "midi_channel": st.integers(1, 16), "midi": st.lists(MIDI_TEXT, max_size=2),
              "midi_file": st.just("t.mid"), "click": GOOD_CLICK,
              "section": st.lists(GOOD_SECTION, max_size=3, unique_by=lambda t: t["bar"]).map(
                  lambda ts: sorted(ts, key=lambda t: t["bar"]))})
GOOD_PART = st.fixed_dictionaries({"name": st.sampled_from(["drums", "bass", "keys"])}, optional={
    "gain_db": st.floats(-120, 24), "muted": st.booleans(), "route": GOOD_ROUTE,
    "program": st.integers(0, 127)})
CHART_TEXT = "tempo: 120\n[A]\n| C | Am7 |\n[B]\n| F G7 | C |\n"
GOOD_CHART_SONG = st.fixed_dictionaries(
    {"chart": st.just(CHART_TEXT),
     "part": st.lists(GOOD_PART.filter(lambda p: p["name"] != "drums" or "program" not in p),
                      max_size=3, unique_by=lambda p: p["name"])},
    optional={"title": st.text(max_size=12), "count_in": st.integers(0, 8),
              "click": GOOD_CLICK, "stem": st.lists(GOOD_STEM, max_size=1),
              "parts": st.one_of(st.booleans(), st.fixed_dictionaries({}, optional={
                  "seed": st.integers(0, 2 ** 32 - 1), "intensity": st.floats(0, 1)}))})


HOSTILE = st.one_of(NASTY_FLOATS, NASTY_INTS, PATHS, VALUES)


def _slots(data: object) -> list[tuple[object, object]]:
    """Every (container, key) in nested dicts and lists: the places a mutation can hit."""
    out = []
    items = data.items() if isinstance(data, dict) else enumerate(data) \
        if isinstance(data, list) else ()
    for key, value in items:
        out.append((data, key))
        out.extend(_slots(value))
    return out


@st.composite
def near_valid(draw: st.DrawFn, good: st.SearchStrategy,
               hostile: st.SearchStrategy = HOSTILE) -> dict:
    """A valid file's data with one or two things wrong: a value replaced by a hostile one
    (NaN, inf, huge, negative, wrong type, `..`), a field dropped, an unknown key added.
    Most of the file stays valid, so the fuzzer reaches what runs after parsing."""
    data = draw(good)
    for _ in range(draw(st.integers(0, 2))):
        slots = _slots(data)
        if not slots:
            break
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        action = draw(st.sampled_from(["replace", "replace", "drop", "junk"]))
        if action == "replace":
            container[key] = draw(hostile)
        elif action == "drop":
            del container[key]
        elif isinstance(container, dict):
            container[draw(TEXT)] = draw(hostile)
    return data


VALID_SONG = ('title = "Valid"\n[[tempo]]\nbar = 1\nbpm = 120\n'
              '[[section]]\nname = "A"\nbar = 1\n[[stem]]\nfile = "a.wav"\nroute = ["foh"]\n')

near_valid_songs = near_valid(GOOD_SONG)
near_valid_chart_songs = near_valid(GOOD_CHART_SONG)
song_texts = st.one_of(near_valid_songs.map(toml_text), near_valid_songs.map(toml_text),
                       song_dicts().map(toml_text), mutated(st.just(VALID_SONG)),
                       mutated(near_valid_songs.map(toml_text)))

# -- setlists ---------------------------------------------------------------------------
_LINE = st.builds(
    lambda name, trans, comment: name + trans + comment,
    st.sampled_from(["ok", "ok", "ok", "broken", "../ok", "songs/ok", "OK", "", "ok ", "é",
                     "|", "a|b|c"]),
    st.sampled_from(["", "", "", " | gapless", " | gapless", " | continue", " | stop",
                     " | crossfade 1500 ms", " | crossfade 0 ms", " | crossfade -5 ms",
                     " | crossfade 99999999999999999999 ms", " | crossfade \u0663 ms",
                     " | crossfade", " | fade", " |"]),
    st.sampled_from(["", " # note", "#"]))
SETLIST_LINE = st.one_of(_LINE, _LINE, _LINE, st.text(max_size=20))
setlist_texts = st.lists(SETLIST_LINE, min_size=1, max_size=6).map("\n".join)

# -- config.toml ------------------------------------------------------------------------
COMMANDS = st.one_of(st.sampled_from([
    "toggle-play", "next-song", "stop at bar", "seek 99999999999999999999999", "seek -5",
    "jump ../x", "jump 0", "select-song \u0663", "select-song 0", "vamp 1e3", "mute", "mute foh",
    "arm ../x", "level foh +1", "menu", "shutdown", "nothing", ""]), TEXT)
GESTURES = with_junk({"press": COMMANDS, "hold": COMMANDS, "double": COMMANDS,
                      "turn": st.sampled_from(["level foh", "click-level", "menu", "song", "x"])})
PINS = st.one_of(st.integers(-1, 30), NASTY_INTS)
CONFIG = with_junk({
    "audio": with_junk({"device": TEXT, "rate": st.sampled_from([48000, 44100, 0, -1, 7]),
                        "period": st.integers(0, 10000), "periods": st.integers(0, 20),
                        "channels": st.integers(0, 70), "format": st.sampled_from(
                            ["S16_LE", "S32_LE", "FLOAT_LE", "S8", ""]),
                        "inputs": st.integers(-1, 70)}),
    "outputs": st.dictionaries(NAMES, st.lists(st.integers(-1, 70), max_size=3), max_size=3),
    "inputs": st.dictionaries(NAMES, st.integers(-1, 70), max_size=3),
    "library": with_junk({"path": PATHS, "cache": PATHS}),
    "recording": with_junk({"path": PATHS, "format": st.sampled_from(["24", "float", "16"]),
                            "latency": st.integers(-1, 50000)}),
    "limiter": with_junk({"on": st.booleans(), "ceiling": st.floats(-30, 3)}),
    "box": with_junk({"learned": PATHS}),
    "parts": with_junk({"soundfont": st.one_of(PATHS, st.just("/usr/share/sounds/sf2/TimGM6mb.sf2"))}),
    "hat": with_junk({"name": TEXT, "pins": st.lists(st.integers(-1, 30), max_size=3)}),
    "controls": with_junk({"debounce_ms": st.integers(-1, 200), "hold_ms": st.integers(0, 6000),
                           "double_ms": st.integers(0, 2000), "combo_ms": st.integers(0, 600),
                           "db_per_step": st.floats(0, 10)}),
    "switch": tables(with_junk({"name": TEXT, "pin": PINS, "play": GESTURES,
                                "menu": GESTURES, "stopped": GESTURES})),
    "encoder": tables(with_junk({"name": TEXT, "a": PINS, "b": PINS, "button": PINS,
                                 "play": GESTURES, "stopped": GESTURES})),
    "combo": tables(with_junk({"switches": st.lists(TEXT, max_size=3), "command": COMMANDS})),
    "led": tables(with_junk({"name": TEXT, "pin": PINS, "shows": TEXT})),
    "display": with_junk({"type": st.sampled_from(["ssd1306", "sh1106", "hd44780", "none", "x"]),
                          "bus": st.sampled_from(["i2c", "spi", "usb"]),
                          "address": st.integers(0, 200), "port": st.integers(-1, 11),
                          "dc": PINS, "reset": PINS, "fps": st.floats(0, 100),
                          "rotate": st.integers(-1, 4), "cols": st.integers(0, 21),
                          "rows": st.integers(0, 5)}),
    "midi": with_junk({"in": st.lists(TEXT, max_size=2), "out": st.lists(TEXT, max_size=2),
                       "channel": st.integers(-1, 17), "program_change": st.booleans(),
                       "mtc": st.sampled_from([0, 24, 25, 30, 29, -1]),
                       "map": tables(with_junk({
                           "note": st.integers(-1, 130), "cc": st.integers(-1, 130),
                           "value": st.integers(-1, 130), "command": COMMANDS,
                           "set": st.sampled_from(["click-level", "level foh", "level ears x",
                                                   "menu", "level ../x"]),
                           "range_db": st.lists(st.floats(allow_nan=True), max_size=3)}))}),
})
LEARNED = with_junk({"recording": with_junk({"latency": st.integers(-1, 50000)}),
                     "midi": with_junk({"map": tables(with_junk({
                         "note": st.integers(-1, 130), "cc": st.integers(-1, 130),
                         "command": st.sampled_from(["next-song", "toggle-play", "x"]),
                         "set": TEXT}))})})

# -- the resume file (JSON) -------------------------------------------------------------
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6), NASTY_INTS,
                         st.floats(allow_nan=True, allow_infinity=True), NASTY_FLOATS, TEXT)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)


def _json(good: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(good, good, JSON_VALUES)


RESUME = st.builds(lambda known, junk: {**known, **junk}, st.fixed_dictionaries({}, optional={
    "target": _json(st.one_of(PATHS, st.sampled_from(["LIB/setlists/gig.setlist",
                                                      "LIB/songs/ok"]))),
    "index": _json(st.integers(-2, 5)),
    "output_gain_db": _json(st.dictionaries(NAMES, _json(st.floats(-130, 20)), max_size=3)),
    "click_db": _json(st.floats(-130, 20)),
    "armed": _json(st.lists(NAMES, max_size=3)),
    "record_arm": _json(st.booleans()),
    "keys": _json(st.dictionaries(NAMES, _json(st.lists(st.floats(-20, 3), min_size=2,
                                                        max_size=2)), max_size=2)),
    "dynamics": _json(st.dictionaries(NAMES, _json(st.floats(-1, 2)), max_size=2))}),
    st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=1))
GOOD_RESUME = st.fixed_dictionaries(
    {"target": st.sampled_from(["LIB/setlists/gig.setlist", "LIB/songs/ok", ""]),
     "index": st.integers(1, 5)},
    optional={"output_gain_db": st.dictionaries(st.sampled_from(["foh", "ears", "click"]),
                                                st.floats(-120, 12), max_size=3),
              "click_db": st.floats(-120, 12), "armed": st.lists(NAMES, max_size=2),
              "record_arm": st.booleans(),
              "keys": st.dictionaries(NAMES, st.tuples(st.integers(-12, 12),
                                                       st.floats(0.5, 2)), max_size=2),
              "dynamics": st.dictionaries(NAMES, st.floats(0, 1), max_size=2)})
near_valid_resumes = near_valid(GOOD_RESUME, JSON_VALUES)
resume_texts = st.one_of(near_valid_resumes.map(json.dumps), RESUME.map(json.dumps),
                         JSON_VALUES.map(json.dumps), mutated(RESUME.map(json.dumps)),
                         st.just("[" * 100_000), st.just("1" * 5000))

# -- take.toml --------------------------------------------------------------------------
INPUT_ENTRY = st.fixed_dictionaries({"name": st.sampled_from(["vox", "gtr"]),
                                     "file": st.sampled_from(["vox.wav", "gtr.wav", "none.wav"])},
                                    optional={"channel": st.integers(1, 4)})
# What a take.toml Backline wrote could hold: the right types, files in the take folder.
TAKE_WELL_TYPED = st.fixed_dictionaries(
    {"complete": st.booleans(), "inputs": st.lists(INPUT_ENTRY, max_size=3)},
    optional={"rate": st.sampled_from([48000, 44100]), "song": TEXT, "start_frame":
              st.integers(0, 10 ** 6), "frames": st.integers(0, 10 ** 6)})
# Anything: wrong types, files outside the take folder, NaN rates.
TAKE_ANY = with_junk({"complete": st.booleans(), "rate": st.one_of(st.integers(0, 96000),
                                                                   NASTY_FLOATS, TEXT),
                      "inputs": tables(with_junk({"name": TEXT, "file": st.one_of(
                          STEM_FILES, st.just("../../x.wav"))}))})


# -- MIDI files -------------------------------------------------------------------------
@st.composite
def midi_files(draw: st.DrawFn, *, tame: bool = False) -> bytes:
    """A Standard MIDI File built with mido: random tempos, meters, markers and times
    (0 BPM, beyond 999, hours apart, far out), in one or more tracks. `tame`: tempos,
    meters and times a DAW would write, so most files are read and played."""
    ppq = draw(st.sampled_from([1, 24, 96, 480, 960, 0x7FFF]))
    kind_of_file = draw(st.sampled_from([0, 1, 1, 2]))
    if tame:
        return _tame_midi(draw, ppq, kind_of_file % 2)
    mid = mido.MidiFile(type=kind_of_file, ticks_per_beat=ppq)
    for _ in range(1 if kind_of_file == 0 else draw(st.integers(1, 3))):
        track = mido.MidiTrack()
        for _ in range(draw(st.integers(0, 6))):
            time = draw(st.one_of(st.integers(0, 4 * ppq), st.integers(0, 0x0FFFFFFF)))
            kind = draw(st.sampled_from(["tempo", "tempo", "meter", "marker", "note"]))
            if kind == "tempo":
                msg = mido.MetaMessage("set_tempo", tempo=draw(st.one_of(
                    st.integers(60_061, 6_000_000), st.integers(0, 0xFFFFFF))), time=time)
            elif kind == "meter":
                msg = mido.MetaMessage("time_signature", numerator=draw(st.integers(0, 255)),
                                       denominator=draw(st.sampled_from([1, 2, 4, 8, 16, 2 ** 20])),
                                       time=time)
            elif kind == "marker":
                msg = mido.MetaMessage("marker", text=draw(st.text(
                    st.characters(max_codepoint=255), max_size=8)), time=time)
            else:
                msg = mido.Message("note_on", note=draw(st.integers(0, 127)), time=time)
            track.append(msg)
        mid.tracks.append(track)
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def _tame_midi(draw: st.DrawFn, ppq: int, kind_of_file: int) -> bytes:
    mid = mido.MidiFile(type=kind_of_file, ticks_per_beat=ppq)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=draw(
        st.integers(60_061, 6_000_000)))])
    for _ in range(draw(st.integers(0, 6))):
        time = draw(st.integers(0, 8 * ppq))
        track.append(draw(st.sampled_from([
            mido.MetaMessage("set_tempo", tempo=draw(st.integers(60_061, 6_000_000)), time=time),
            mido.MetaMessage("time_signature", numerator=draw(st.integers(1, 12)),
                             denominator=draw(st.sampled_from([2, 4, 8])), time=time),
            mido.MetaMessage("marker", text=draw(st.text(st.characters(max_codepoint=255),
                                                         max_size=8)), time=time),
            mido.Message("note_on", note=60, time=time)])))
    mid.tracks.append(track)
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


@st.composite
def broken_midi(draw: st.DrawFn) -> bytes:
    """A MIDI file damaged: cut short, bytes flipped, a header alone, or random bytes."""
    data = bytearray(draw(midi_files()))
    how = draw(st.sampled_from(["truncate", "flip", "garbage", "header"]))
    if how == "truncate":
        return bytes(data[:draw(st.integers(0, len(data)))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if how == "header":
        return b"MThd\x00\x00\x00\x06" + draw(st.binary(min_size=0, max_size=12))
    return draw(st.binary(max_size=100))


def midi_bytes_120() -> bytes:
    """A valid one-track MIDI file: 120 BPM, 4/4, a marker, four bars."""
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000),
                            mido.MetaMessage("time_signature", numerator=4, denominator=4),
                            mido.MetaMessage("marker", text="A"),
                            mido.MetaMessage("end_of_track", time=16 * 480)])
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(track)
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()
