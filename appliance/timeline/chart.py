"""A chord chart (`chart.txt`, or `chart = "..."` in song.toml) read into a `Chart`.

The format is documented in docs/chart.md. Chord symbols are read by pychord, so the
qualities a musician writes are the ones a well-kept library knows, not a list of ours.
The first mistake stops the reading: a `ChartError` naming the line, the column (and the
bar where there is one) and what was expected. Pure: text in, data out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from pychord import Chord

from ..errors import Problems, read_text
from ..vocab.commands import MAX_BPM, MIN_BPM
from .meter import Meter, MeterMap
from .tempo import MAX_SECONDS, TempoMap, TempoPoint

CHART_FILE = "chart.txt"
STYLES = ("rock", "pop", "shuffle", "ballad", "halftime", "bossa", "6/8", "12/8")
MAX_REPEAT = 99
MAX_BARS = 9999
PUSH = Fraction(1, 2)          # a pushed chord comes an eighth note early
HOLD_BEAT, REPEAT_BAR, PUSH_MARK = ".", "%", ">"
REST = ("N.C.", "NC")

_SETTING = re.compile(r"^\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")
_HEADER = re.compile(r"^\s*\[([^\[\]]*)\]\s*(.*?)\s*$")
_REPEAT = re.compile(r"^x\s*(\d+)$")
_NUMBER = re.compile(r"^\d{1,4}(\.\d{1,3})?$")


class ChartError(ValueError):
    """The first mistake of a chart: where (line, column from 1) and what was expected."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line, self.column, self.message = line, column, message


@dataclass(frozen=True)
class ChordSymbol:
    """A chord as the parts need it: pitch classes (0 = C)."""

    text: str
    root: int
    bass: int                     # the slash bass, or the root
    tones: tuple[int, ...]        # pitch classes, root first, as pychord orders them
    third: int | None             # None: a sus or power chord
    seventh: int | None

    @classmethod
    def parse(cls, text: str) -> "ChordSymbol":
        """ValueError saying what is wrong (pychord's own reason)."""
        if not text or text[0] not in "ABCDEFG":
            raise ValueError(f"{text!r} is no chord: a chord starts with its root, A to G")
        try:
            chord = Chord(text)
            absolute = chord.quality.get_components(root=chord.root, visible=False)
            bass = Chord(chord.on).components(visible=False)[0] if chord.on else absolute[0]
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            raise ValueError(f"{text!r} is no chord symbol known to pychord ({exc})") from None
        intervals = [(v - absolute[0]) % 12 for v in absolute]
        root = absolute[0] % 12
        third = next((i for i in intervals if i in (3, 4)), None)
        seventh_at = (9, 10, 11) if "dim7" in chord.quality.quality else (10, 11)
        seventh = next((i for i in intervals if i in seventh_at), None)
        return cls(text, root, bass % 12, tuple((root + i) % 12 for i in intervals),
                   None if third is None else (root + third) % 12,
                   None if seventh is None else (root + seventh) % 12)


@dataclass(frozen=True)
class ChartChord:
    """One chord (or a rest: `symbol` None) from `qn` to `end_qn`."""

    qn: Fraction
    end_qn: Fraction
    symbol: ChordSymbol | None
    bar: int
    pushed: bool = False


@dataclass(frozen=True)
class ChartBar:
    bar: int
    qn: Fraction
    meter: Meter
    style: str
    section: int               # index into Chart.sections


@dataclass(frozen=True)
class ChartSection:
    """A section as played: `Chorus 2` is the second `[Chorus]`; repeats are inside it."""

    name: str
    bar: int
    qn: Fraction
    bars: int                  # all its passes
    repeat: int
    line: int


@dataclass(frozen=True)
class Chart:
    tempo: TempoMap
    meters: MeterMap
    key: str | None
    bars: tuple[ChartBar, ...]
    chords: tuple[ChartChord, ...]
    sections: tuple[ChartSection, ...]
    end_qn: Fraction


@dataclass(frozen=True)
class _Bar:
    """A bar as written, with the settings in force where it was written."""

    tokens: tuple[tuple[str, int], ...]      # (token, column)
    line: int
    column: int
    meter: Meter
    bpm: Fraction
    style: str


@dataclass
class _Written:
    name: str
    repeat: int
    line: int
    column: int
    bars: list[_Bar]


def load_chart(path: Path, problems: Problems, field: str = "") -> Chart | None:
    """A chart file, or None with its problem (naming the file and the line) recorded."""
    text = read_text(path, problems)
    return None if text is None else chart_from_text(text, path, problems, field)


def chart_from_text(text: str, file: Path, problems: Problems, field: str = "") -> Chart | None:
    """`parse_chart` with its error recorded against `file` (`field`: where in it)."""
    try:
        return parse_chart(text)
    except ChartError as exc:
        where = f"line {exc.line}, column {exc.column}"
        problems.error(file, f"{field}, {where}" if field else where, exc.message)
        return None


def parse_chart(text: str) -> Chart:
    """The chart, or ChartError for its first mistake."""
    written, key = _read_lines(text)
    return _unroll(written, key)


def _read_lines(text: str) -> tuple[list[_Written], str | None]:
    bpm: Fraction | None = None
    meter, style, key = Meter(4, 4), "rock", None
    sections: list[_Written] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(line) - len(line.lstrip()) + 1
        setting = _SETTING.match(line)
        header = _HEADER.match(line)
        if setting and not header:
            name, value = setting.group(1).lower(), setting.group(2)
            at = line.index(value, line.index(":")) + 1 if value else len(line) + 1
            if name == "tempo":
                bpm = _tempo(value, number, at)
            elif name == "meter":
                try:
                    meter = Meter.parse(value)
                except ValueError as exc:
                    raise ChartError(number, at, str(exc)) from None
            elif name == "style":
                if value.lower() not in STYLES:
                    raise ChartError(number, at, f"unknown style {value!r}; expected one of "
                                                 f"{', '.join(STYLES)}")
                style = value.lower()
            elif name == "key":
                if sections:
                    raise ChartError(number, column, "key goes before the first section")
                key = value or None
            else:
                raise ChartError(number, column, f"unknown setting {name!r}; expected tempo, "
                                                 "meter, key or style")
        elif header:
            name = header.group(1).strip()
            if not name:
                raise ChartError(number, column, "a section needs a name, like [Verse]")
            repeat = _repeat(header.group(2), number, header.start(2) + 1)
            sections.append(_Written(name, repeat, number, column, []))
        else:
            if not sections:
                raise ChartError(number, column, "bars need a section first, like [Verse]")
            if bpm is None:
                raise ChartError(number, column, "the tempo goes before the first bar, "
                                                 "like 'tempo: 96'")
            sections[-1].bars.extend(_bars(line, number, meter, bpm, style))
    if not sections:
        raise ChartError(max(1, len(text.splitlines())), 1,
                         "no sections: a chart needs at least one, like [Verse] then bars")
    return sections, key


def _tempo(value: str, line: int, column: int) -> Fraction:
    """Beats per minute, as written digits only: nan, inf and 0 are refused."""
    if not _NUMBER.match(value) or not MIN_BPM <= Fraction(value) <= MAX_BPM:
        raise ChartError(line, column, f"tempo must be a number of BPM from {MIN_BPM} to "
                                       f"{MAX_BPM}, like 'tempo: 96', not {value!r}")
    return Fraction(value)


def _repeat(text: str, line: int, column: int) -> int:
    if not text:
        return 1
    m = _REPEAT.match(text)
    if not m:
        raise ChartError(line, column, f"after a section's name comes a repeat count like "
                                       f"x2, or nothing, not {text!r}")
    count = int(m.group(1))
    if not 1 <= count <= MAX_REPEAT:
        raise ChartError(line, column, f"a section plays 1 to {MAX_REPEAT} times, not {count}")
    return count


def _bars(line: str, number: int, meter: Meter, bpm: Fraction, style: str) -> list[_Bar]:
    """The bars of one line: `|` between them, the outer ones optional."""
    cells: list[tuple[str, int]] = []
    start = 0
    for i, ch in enumerate(line + "|"):
        if ch == "|":
            cells.append((line[start:i], start + 1))
            start = i + 1
    if not cells[0][0].strip():
        cells = cells[1:]
    if cells and not cells[-1][0].strip():
        cells = cells[:-1]
    bars = []
    for cell, col in cells:
        tokens = tuple((m.group(0), col + m.start()) for m in re.finditer(r"\S+", cell))
        if not tokens:
            raise ChartError(number, col, "an empty bar: write its chord, "
                                          f"'{REPEAT_BAR}' for the bar before, or N.C.")
        bars.append(_Bar(tokens, number, tokens[0][1], meter, bpm, style))
    return bars


def _unroll(written: list[_Written], key: str | None) -> Chart:
    """Sections in the order played, repeats and reused sections spelled out bar by bar."""
    defined: dict[str, _Written] = {}
    seen: dict[str, int] = {}
    played: list[tuple[str, _Written, int]] = []      # (name as played, bars from, repeat)
    for w in written:
        fold = w.name.casefold()
        if not w.bars:
            if fold not in defined:
                raise ChartError(w.line, w.column, f"[{w.name}] has no bars, and no section "
                                                   "of that name comes before it to repeat")
            source = defined[fold]
        else:
            source = defined[fold] = w
        seen[fold] = seen.get(fold, 0) + 1
        name = w.name if seen[fold] == 1 else f"{w.name} {seen[fold]}"
        played.append((name, source, w.repeat))
    total = sum(len(src.bars) * rep for _, src, rep in played)
    if total > MAX_BARS:
        w = written[-1]
        raise ChartError(w.line, w.column, f"the chart plays {total} bars; a chart has at most "
                                           f"{MAX_BARS}")

    bars: list[_Bar] = []
    sections: list[tuple[str, int, int, int, int]] = []   # name, first bar, bars, repeat, line
    for (name, src, repeat), w in zip(played, written):
        sections.append((name, len(bars) + 1, len(src.bars) * repeat, repeat, w.line))
        bars.extend(src.bars * repeat)
    meters = MeterMap.from_bars([(i, b.meter) for i, b in enumerate(bars, 1)
                                 if i == 1 or b.meter != bars[i - 2].meter])
    tempo = TempoMap([TempoPoint(meters.bar_qn(i), b.bpm) for i, b in enumerate(bars, 1)
                      if i == 1 or b.bpm != bars[i - 2].bpm])
    end_qn = meters.bar_qn(len(bars) + 1)
    if tempo.seconds_at(end_qn) > MAX_SECONDS:
        raise ChartError(bars[-1].line, bars[-1].column,
                         f"the chart lasts over {MAX_SECONDS // 3600} hours")
    section_of = [0] * len(bars)
    for index, (_, first, count, _, _) in enumerate(sections):
        section_of[first - 1:first - 1 + count] = [index] * count
    chart_bars = tuple(ChartBar(i, meters.bar_qn(i), b.meter, b.style, section_of[i - 1])
                       for i, b in enumerate(bars, 1))
    return Chart(tempo=tempo, meters=meters, key=key, bars=chart_bars,
                 chords=tuple(_chords(bars, meters, end_qn)),
                 sections=tuple(ChartSection(name, first, meters.bar_qn(first), count, rep, line)
                                for name, first, count, rep, line in sections),
                 end_qn=end_qn)


def _chords(bars: list[_Bar], meters: MeterMap, end_qn: Fraction) -> list[ChartChord]:
    """Each bar's tokens placed on its beats; `.` holds, `%` repeats the bar before,
    `>` pushes a chord an eighth early."""
    starts: list[tuple[Fraction, ChordSymbol | None, int, bool]] = []
    previous: list[tuple[Fraction, ChordSymbol | None, bool]] | None = None
    symbols: dict[str, ChordSymbol] = {}
    for number, bar in enumerate(bars, 1):
        qn0 = meters.bar_qn(number)
        beat_qn = bar.meter.beat_qn
        tokens = bar.tokens
        where = f"bar {number}"
        if len(tokens) == 1 and tokens[0][0] == REPEAT_BAR:
            if previous is None:
                raise ChartError(bar.line, tokens[0][1], f"{where}: '%' repeats the bar "
                                                         "before, and there is none")
            cells = [(qn0 + offset, sym, pushed) for offset, sym, pushed in previous]
        else:
            beats = bar.meter.beats
            if len(tokens) > beats:
                raise ChartError(bar.line, tokens[beats][1],
                                 f"{where} has {len(tokens)} beats of chords; a bar of "
                                 f"{bar.meter} has {beats}")
            holds = any(t == HOLD_BEAT for t, _ in tokens)
            if len(tokens) < beats and (holds or beats % len(tokens)):
                raise ChartError(bar.line, tokens[0][1],
                                 f"{where}: {len(tokens)} chords do not share {beats} beats "
                                 f"evenly: write every beat, '{HOLD_BEAT}' holding a chord "
                                 f"(like 'C . F G')")
            step = beat_qn * beats / len(tokens)
            cells = []
            for i, (token, col) in enumerate(tokens):
                if token == HOLD_BEAT:
                    if not starts and not cells:
                        raise ChartError(bar.line, col, f"{where}: '{HOLD_BEAT}' holds the chord "
                                                        "before, and there is none")
                    continue
                pushed = token.startswith(PUSH_MARK)
                name = token[1:] if pushed else token
                if name in REST:
                    sym = None
                else:
                    try:
                        sym = symbols.get(name) or ChordSymbol.parse(name)
                    except ValueError as exc:
                        raise ChartError(bar.line, col, f"{where}: {exc}; expected a chord "
                                                        "like C, Am7, F#m7b5, G/B or N.C.")
                    symbols[name] = sym
                at = qn0 + i * step - (PUSH if pushed else 0)
                before = cells[-1][0] if cells else (starts[-1][0] if starts else None)
                if pushed and (before is None or at - before <= 0):
                    raise ChartError(bar.line, col, f"{where}: a push ('>') needs a chord "
                                                    "before it lasting more than an eighth")
                cells.append((at, sym, pushed))
        previous = [(at - qn0, sym, pushed) for at, sym, pushed in cells]
        starts.extend((at, sym, number, pushed) for at, sym, pushed in cells)
    ends = [s[0] for s in starts[1:]] + [end_qn]
    return [ChartChord(qn, end, sym, bar, pushed)
            for (qn, sym, bar, pushed), end in zip(starts, ends)]
