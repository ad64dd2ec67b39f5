"""The audio thread allocates nothing in steady state: the period path, as the engine runs
it (`Transport.render` into a preallocated period), traced by tracemalloc.

Deterministic because only what this test's own render call made is counted: every trace
is kept with its whole stack (`FRAMES` is deeper than the period path's), and a trace
counts only when the line marked RENDER (or TAKE, a command) is on that stack. The disk,
synth and loader threads allocate freely beside it; their stacks never hold those lines,
so they never count, however they are scheduled.

What it sees: blocks taken from the heap and still held at the end. A block made and
freed inside a period (a numpy view, a bound method) nets to zero, and an object Python
takes from its own free lists (small tuples, floats) is no heap allocation at all; neither
grows memory or wakes the collector (numpy arrays are not tracked by it; `Engine` also
freezes what is loaded: `gc.freeze`)."""
from __future__ import annotations

import shutil
import tracemalloc
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from appliance.audio.mix.click import MEMO
from appliance.audio.disk.show import Show, SongBank
from appliance.audio.play.transport import Transport
from appliance.config import DEMO_LIBRARY, Config
from appliance.errors import Problems
from appliance.vocab import commands as c
from appliance.vocab.segments import SegmentLog

PERIOD, RATE = 128, 48000
WARM = 50            # periods traced before counting: a freed block counts only if traced
FRAMES = 100          # deeper than any stack under `_periods`
BAR_104 = 4 * 60 * RATE // 104   # a 4/4 bar of the demo chart song, in frames
PLAY_KEEPS = 4       # blocks Play from the top keeps (2 here): its test says which


def _line(mark: str) -> int:
    """The line of this file that ends with `mark`: the call whose allocations count."""
    return next(i for i, line in enumerate(Path(__file__).read_text().splitlines(), 1)
                if line.endswith(mark))


RENDER, TAKE = _line("# RENDER: what counts"), _line("# TAKE: what counts")
LEFT = 16            # ints the last periods left in attributes (frames, counts): assert_no_growth
OUTPUTS = {"foh": (1, 2), "ears": (3, 4), "click": (5, 3, 4), "cue": (6, 7)}


class Rig:
    """A loaded song's transport, rendered period after period on this thread."""

    def __init__(self, song: Path, tmp: Path) -> None:
        config = Config(rate=RATE, channels=8, period=PERIOD, periods=3, format="FLOAT_LE",
                        outputs=OUTPUTS, cache=tmp / "cache")
        self.bank = SongBank(Show.open(song, Problems()), config, PERIOD)
        assert self.bank.load_now(0) is not None
        self.transport = Transport(self.bank, rate=RATE, channels=8, block=PERIOD)
        self.bank.start()
        self.log, self.out, self.frame = SegmentLog(), np.zeros((PERIOD, 8), np.float32), 0

    def _periods(self, n: int) -> None:
        for _ in range(n):
            self.out.fill(0.0)
            self.transport.render(self.out, self.log, self.frame)   # RENDER: what counts
            self.frame += PERIOD
            self.transport.wake_disks()
            self._refilled()

    def _take(self, command: Callable[[], None]) -> None:
        command()   # TAKE: what counts

    def _refilled(self) -> None:
        """A chunk ready in every ring before the next period, as a real-time pace gives the
        disk and synth threads time to (this test renders faster than real time)."""
        song = self.transport.song
        if song is not None and not song.stream.wait_primed(2.0):
            raise AssertionError("the disk or synth thread fell behind for 2 s")

    def run(self, n: int) -> None:
        self._periods(n)

    def traced(self, n: int, *, before: Callable[[], None] | None = None) -> list[str]:
        """What the period path kept over `n` periods (and a command taken `before` the
        first, as the engine takes it): blocks, bytes and where."""
        tracemalloc.start(FRAMES)
        try:
            mine = [tracemalloc.Filter(True, __file__, RENDER, all_frames=True),
                    tracemalloc.Filter(True, __file__, TAKE, all_frames=True)]
            tracemalloc.take_snapshot().filter_traces(mine)   # the filter's own first use
            self._periods(WARM)   # what each period replaces (an int, a view) traced too
            first = tracemalloc.take_snapshot().filter_traces(mine)
            if before is not None:
                self._take(before)
            self._periods(n)
            after = tracemalloc.take_snapshot().filter_traces(mine)
        finally:
            tracemalloc.stop()
        diff = [d for d in after.compare_to(first, "lineno") if d.count_diff]
        where = [f"{d.count_diff:+d} blocks {d.size_diff:+d} B at "
                 + f"{Path(d.traceback[-1].filename).name}:{d.traceback[-1].lineno}"
                 for d in diff]
        return where

    def close(self) -> None:
        self.bank.stop()


def chart_song(tmp: Path, *, stems: int) -> Path:
    song = tmp / "song"
    shutil.copytree(DEMO_LIBRARY / "songs" / "demo-chart", song)
    rng = np.random.default_rng(0)
    tables = ""
    for i in range(stems):
        sf.write(song / f"s{i}.wav", (rng.standard_normal((RATE * 20, 2)) * 0.05)
                 .astype(np.float32), RATE, subtype="PCM_24")
        tables += f'\n[[stem]]\nname = "s{i}"\nfile = "s{i}.wav"\nroute = ["foh", "ears"]\n'
    with open(song / "song.toml", "a") as f:
        f.write(tables)
    return song


def assert_no_growth(where: list[str]) -> None:
    """Nothing kept per period. Two things may differ between two snapshots, bounded and
    not growing with the periods counted: the click's memo (its MEMO slots take a new int,
    a frame above 256, the first time each is used, then replace it in place), and the
    ints the last period left in attributes (a frame, a count: one each, replacing the
    last period's; a line shows +1 when the value it replaced was a small int that
    tracemalloc never traced). A period that kept anything would show one per period."""
    rest = [w for w in where if not w.endswith(("beatmap.py:98", "click.py:72"))]
    memo = sum(int(w.split()[0]) for w in where if w not in rest)
    kept = sum(abs(int(w.split()[0])) for w in rest)
    assert memo <= 3 * MEMO and kept <= LEFT, "\n".join(where)


def traced_after(tmp: Path, steps: list[tuple[c.Command, int]], counted: int, *,
                 stems: int = 0) -> tuple[list[str], Transport]:
    """The chart song (with `stems` stems) given each command then its periods, and what
    the next `counted` periods kept; the transport as they left it."""
    rig = Rig(chart_song(tmp, stems=stems), tmp)
    try:
        for cmd, periods in steps:
            rig.transport.apply(cmd)
            rig.run(periods)
        underruns = rig.transport.song.stream.underruns
        where = rig.traced(counted)
        assert rig.transport.song.stream.underruns == underruns    # steady: no late block
        return where, rig.transport
    finally:
        rig.close()


def test_a_chart_song_playing_keeps_nothing_per_period(tmp_path):
    """Stems, the parts' ring, the click and the cue track, after the count-in (a bar at
    104 BPM: 865 periods)."""
    where, _ = traced_after(tmp_path, [(c.Play(), 1000)], 2000, stems=2)
    assert_no_growth(where)


def test_an_intensity_glide_keeps_nothing(tmp_path):
    """The parts' level gliding to a new intensity, period after period, to its end."""
    where, _ = traced_after(tmp_path, [(c.Play(), 1000), (c.SetIntensity(level=0.1), 0)], 200)
    assert_no_growth(where)


def test_a_count_in_keeps_nothing_after_play(tmp_path):
    """The count-in's periods, once Play is taken (inside its bar: 865 periods)."""
    where, _ = traced_after(tmp_path, [(c.Play(), 5)], 600, stems=1)
    assert_no_growth(where)


def test_play_from_the_top_keeps_only_its_count_in_lists(tmp_path):
    """Play taken (the count-in's periods after it: the test above). The count-in, its
    clicks and its beats' tuples were made by the loader (`LoadedSong.prepare`); what
    stays is the handler's name (`Transport.apply`: one string a command type) and one
    record made by `dataclasses.replace`: 2 blocks at most (fewer when an earlier test's
    Play made them), once a Play, never per period."""
    rig = Rig(chart_song(tmp_path, stems=1), tmp_path)
    try:
        where = rig.traced(0, before=lambda: rig.transport.apply(c.Play()))
    finally:
        rig.close()
    kept = sum(int(w.split()[0]) for w in where)
    assert kept <= PLAY_KEEPS, "\n".join(where)


def test_a_vamp_looping_keeps_nothing(tmp_path):
    """A one-bar vamp going round: its loop-backs, each a cued jump of the stems' and the
    parts' rings, keep nothing either (after the first time round, two more)."""
    where, transport = traced_after(tmp_path, [(c.Play(), 1000), (c.Vamp(bars=1), 1000)],
                                    2000, stems=1)
    assert_no_growth(where)
    assert transport.pos < 2 * BAR_104      # still in the bar it vamps on, 4000 periods in


def test_after_a_jump_and_a_tempo_change_nothing_is_kept(tmp_path):
    """A jump to the chorus at the next bar and a new tempo at the next beat (a new
    timing from the retimer, taken whole): once they have landed, the periods keep
    nothing, and the song plays on at the new tempo."""
    where, transport = traced_after(
        tmp_path, [(c.Play(), 1000), (c.Jump(section="Chorus"), 1000),
                   (c.SetBpm(bpm=120.0), 1000)], 2000)
    assert_no_growth(where)
    tempo = transport.song.song.tempo
    assert tempo.bpm_at(tempo.qn_at_seconds(Fraction(transport.pos, RATE))) == 120
