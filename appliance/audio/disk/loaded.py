"""A song made ready to play on this box: stems checked and resampled, click
mapped, mixer routed to the configured outputs."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from ...config import CUE_OUTPUT, Config, click_in_front, default_outputs, front_outputs
from ...errors import Problems
from ...lifetime import Lifetime
from ...timeline import cues, grid
from ...timeline.beatmap import BeatMap
from ...timeline.loudness import Level, song_level
from ...timeline.song import SONG_FILE, ClickSpec, Song, load_song
from ...vocab.state import clock
from ..mix.click import ClickTrack, click_sounds
from ..mix.cue_track import CueTrack
from ..mix.mixer import (CLICK_INPUT, COUNT_IN_INPUT, CUE_INPUT, Mixer, MixerInput,
                         expression_db, input_routes)
from ..synth.plan import PartsPlan
from ..synth.errors import SynthError
from ..synth.parts import PartsSynth
from .parts import (check_sound, load_parts, part_inputs, soundfont_of, synth_thread,
                    without_parts)
from .resample import ResampleError, playable_path
from .retime import Timing, timing
from .song_streams import SongStreams
from .stems import StemInfo, StemReader, inspect_stems
from .streaming import DiskThread, SongStream
from .variants import AS_WRITTEN, ready_variants, unprepared, variant_frames
from .voice import load_words

@dataclass(frozen=True)
class Positions:
    """Where beats, bars and sections fall: beats and bars found on asking (a few integer
    steps, so the audio thread may ask; see BeatMap), sections listed."""

    beats: BeatMap
    section_frames: np.ndarray   # int64, in song order

    @classmethod
    def of(cls, song: Song, rate: int, frames: int) -> "Positions":
        return cls(BeatMap(song.tempo, song.meters, rate, frames),
                   np.array([song.tempo.frame_at(s.qn, rate) for s in song.sections], np.int64))


class Timed(NamedTuple):
    """The song's fields its tempo map shapes, swapped whole at a retiming: a reader on
    another thread (the state snapshot) sees the old three or the new, never a mix."""

    song: Song
    frames: int
    positions: Positions


@dataclass
class LoadedSong(Lifetime, ends="close"):
    """A song made ready to play. `with load(...) as song:` does not start its disk
    threads (`start` does); leaving the block is `close()`: threads stopped, files closed.
    A chart song's parts play from `stream` beside the stems, following `plan`."""

    song: Song
    config: Config
    stems: list[StemInfo]
    frames: int               # bar 1 beat 1 to the end, at the engine rate
    click: ClickTrack
    mixer: Mixer
    stream: SongStreams
    positions: Positions
    cues: CueTrack | None = None      # the voice (count-in numbers, guide words)
    disks: tuple[DiskThread, ...] = ()     # the stems' disk threads, then the synth thread
    plan: PartsPlan | None = None    # what the parts follow live; None: a song without parts
    parts_trouble: str = ""          # why a chart song's parts cannot sound here ("": they can)
    synth: PartsSynth | None = None  # what plays the parts (blocking in an offline render)
    level: Level | None = None     # the FOH gain that plays it at the box's target loudness
    _count_ins: dict = field(default_factory=dict)    # start quarter note -> (CountIn, track)
    # another start's count-in, made ahead off the audio thread: (map, song frame, (CountIn, track))
    _count_in_at: tuple = (None, -1, None)

    def __post_init__(self) -> None:
        self.timed = Timed(self.song, self.frames, self.positions)

    @property
    def rate(self) -> int:
        return self.config.rate

    @property
    def live(self) -> bool:
        """No stems: its tempo can change as it plays (the click, the voice and the parts
        follow at once); a song with stems changes at a stop, to prepared variants."""
        return not self.stems

    def retime(self, timing: Timing) -> None:
        """The audio thread, at a beat: the song at the tempo `timing` was made for (its
        click and voice sources swapped in the mixer; reference assignments only)."""
        for inp in self.mixer.inputs:
            if inp.source is self.click:
                inp.source = timing.click
            elif inp.source is self.cues:
                inp.source = timing.cues
        self.song, self.frames, self.positions = timing.song, timing.frames, timing.positions
        self.click, self.cues, self._count_ins = timing.click, timing.cues, timing.count_ins
        self.timed = Timed(timing.song, timing.frames, timing.positions)    # one swap
        if self.plan is not None:
            self.plan.retempo(timing.song.tempo)

    def play_as(self, key: tuple[Fraction, Fraction] | None, intensity: float | None) -> None:
        """Before it plays (the loader, the song not started yet): as the musician left it
        tonight. A song without stems at `key`'s tempo factor (its map made again, as the
        retimer does) and its parts at `key`'s transposition; any song's parts at
        `intensity`. ValueError/TypeError for a value out of range, the song as it was."""
        plan = self.plan
        fields: dict[str, object] = {}
        if plan is not None and intensity is not None:
            fields["intensity"] = intensity
        if plan is not None and key is not None and self.live:
            fields["transpose"] = round(key[0])
        if fields:
            plan.change(None, **fields)
        if key is not None and self.live and key[1] != self.song.tempo.factor:
            self.retime(timing(self, key[1]))
        if "intensity" in fields:
            self.mixer.expression_db = expression_db(intensity, self.config.expression_db)
            self.mixer.update(glide=False)

    def count_in(self, start_qn: Fraction = Fraction(0)) -> tuple[grid.CountIn, ClickTrack]:
        """The count-in before `start_qn`, built once: bar 1's by the loader (`prepare`), so
        the audio thread does no tempo maths when a song starts from the top."""
        if start_qn not in self._count_ins:
            ci = grid.count_in(self.song, self.rate, start_qn)
            self._count_ins[start_qn] = (ci, ClickTrack(grid.count_in_map(ci, self.rate),
                                                        self.click.sounds))
        return self._count_ins[start_qn]

    def count_in_at(self, frame: int) -> tuple[grid.CountIn, ClickTrack]:
        """The count-in before song `frame`, as a Play asks it on the audio thread: bar 1's
        made by the loader, another start's by the retimer while the song rested there
        (`make_count_in`); made here only when neither had it ready."""
        positions, at, made = self._count_in_at
        if frame == 0:
            return self.count_in(Fraction(0))
        if positions is self.positions and at == frame:
            return made
        return self.count_in(self.song.tempo.qn_at_seconds(Fraction(frame, self.rate)))

    def make_count_in(self, frame: int) -> None:
        """Off the audio thread: the count-in before song `frame` made for `count_in_at`
        (kept with the tempo map it was made in: a retiming since leaves it unused)."""
        song, _, positions = self.timed
        if frame <= 0 or not song.count_in_bars:
            return
        ci = grid.count_in(song, self.rate, song.tempo.qn_at_seconds(Fraction(frame, self.rate)))
        self._count_in_at = (positions, frame, (ci, ClickTrack(grid.count_in_map(ci, self.rate),
                                                               self.click.sounds)))

    def prepare(self, frame: int) -> None:
        """The next frames played will be from `frame` (stopped, or about to start)."""
        self.stream.prepare(frame)
        self.cues.reset()
        if frame == 0 and self.song.count_in_bars:
            self.count_in(Fraction(0))

    def cue(self, frame: int) -> None:
        """A jump to `frame` is coming: start reading it ahead."""
        self.stream.cue(frame)

    def recue(self) -> None:
        """The parts changed (key, intensity): the cued jump target is synthesised anew."""
        self.stream.recue()

    def remake(self) -> None:
        """The parts changed while stopped: what they read ahead is synthesised anew."""
        self.stream.remake()

    @property
    def underruns(self) -> int:
        return self.stream.underruns

    def failed_stems(self) -> list[str]:
        stems = self.mixer.stems
        return [stems[i].name for i in self.stream.failed()]

    def stem_problems(self) -> list[str]:
        """Each failed stem's file and the song time it went silent from."""
        return [f"{r.name} silent from {clock(r.failed_at / self.rate)}: {r.why}"
                for r in self.stream.readers if r.failed_at is not None]

    def troubles(self) -> list[str]:
        """What of the song is silent, for the display: a failed stem or part, and a chart
        song's parts that cannot sound on this box."""
        return self.stem_problems() + ([f"parts silent: {self.parts_trouble}"]
                                       if self.parts_trouble else [])

    def start(self, *, blocking: bool = False) -> None:
        """Start reading ahead. `blocking` (an offline render): the mixer waits for the disk,
        and two disk threads decode in parallel, nothing being real-time."""
        self.stream.blocking = blocking
        if self.synth is not None:
            self.synth.blocking = blocking       # a new intensity's notes: waited for, exact
        parts = 2 if blocking else 1
        disks = [DiskThread([self.stream.stems], i, parts) for i in range(parts)]
        if self.stream.parts is not None:
            disks.append(synth_thread(self.stream.parts))
        self.disks = tuple(disks)
        for d in self.disks:
            d.start()

    def stop(self) -> None:
        for d in self.disks:
            d.stop()
        self.disks = ()

    def close(self) -> None:
        """Idempotent: a second close does nothing more."""
        self.stop()
        self.stream.close()


@dataclass(frozen=True)
class Playable:
    """What of a song plays on this box: `validate_song`'s answer."""

    song: Song                # its sections all inside the song
    stems: list[StemInfo]     # the stems that can play
    frames: int               # bar 1 beat 1 to the end, at the engine rate, above 0
    words: dict = field(default_factory=dict)    # the voice's words it says: key -> sound
    level: Level | None = None    # its FOH loudness gain on this box
    variants: dict[int, Path] = field(default_factory=dict)   # stem index -> its variant
    parts_trouble: str | None = None   # a chart song's parts: "" they sound, else why not


def validate_song(folder: Path, config: Config, problems: Problems, *,
                  tempo: Fraction | None = None, transpose: Fraction | None = None,
                  preparing: bool = False) -> Playable | None:
    """The one check of a song against this box, for `check`, `render`, `play` and the
    daemon alike, so that they cannot disagree: every error and warning is made here (or
    in what it calls), never again by a caller. None when nothing of the song can play.
    A song at another key or tempo plays its stems' variants when all are ready (so the
    scaled map matches the stems); else it plays as written, with a warning (`preparing`:
    the box is making them now). `tempo` and `transpose` replace the song's own (the
    command line's `--tempo`): asked so and not ready, the song is refused."""
    song = load_song(folder, problems)
    if song is None:
        return None
    asked_here = tempo is not None or transpose is not None
    if asked_here:
        song = song.at(song.tempo.factor if tempo is None else tempo,
                       song.transpose if transpose is None else transpose)
    stems = inspect_stems(song, config.rate, problems)
    song, variants = _as_played(song, stems, config, problems, asked_here, preparing)
    if song is None:
        return None
    frames = song_frames(song, stems, config.rate)
    if frames <= 0:
        reason = "no stem can play and there is no length_bars" if song.end_qn is None \
            else "its tempo_map ends where it starts"
        problems.error(song.folder / SONG_FILE, "length_bars",
                       f"the song has no length: {reason}")
        return None
    song = _sections_within(song, frames, config.rate, problems)
    parts_trouble = check_sound(song, config, problems)
    check_routing(song, stems, config, problems, parts=parts_trouble == "")
    words = load_words(spoken_words(song, config), config.library, config.rate,
                       song.folder / SONG_FILE, problems)
    level = song_level(song, front_outputs(config), config.loudness_target, config.ceiling_db,
                       problems, sound=soundfont_of(song, config), silent_parts=parts_trouble or "")
    return Playable(song, stems, frames, words, level, variants, parts_trouble)


def counts_in_aloud(song: Song, config: Config) -> bool:
    """Whether the voice counts the song in: the song says, else the box's default."""
    on = config.count_in_voice if song.count_in_voice is None else song.count_in_voice
    return bool(on and song.count_in_bars)


def spoken_words(song: Song, config: Config) -> set[str]:
    """The keys of every word the voice may say in `song`."""
    words = {w for w in map(cues.guide_word, song.sections) if w}
    return words | set(cues.NUMBERS) if counts_in_aloud(song, config) else words


def cue_output(song: Song, outputs: dict) -> str:
    """Where the voice goes: the `cue` output, else (a box without one) the click's, the
    musicians' ears."""
    return CUE_OUTPUT if CUE_OUTPUT in outputs else song.click.output


def as_played(song: Song, config: Config) -> Song:
    """`song` as the box plays it now: at its key and tempo when its variants are ready,
    else as written (what `validate_song` decides, for those who read song.toml again)."""
    return _as_played(song, inspect_stems(song, config.rate, Problems()), config, Problems(),
                      False, False)[0]


def _as_played(song: Song, stems: list[StemInfo], config: Config, problems: Problems,
               refuse: bool, preparing: bool) -> tuple[Song | None, dict[int, Path]]:
    """The song at its key and tempo with its stems' variants, or at its written ones
    (warned; None when `refuse`) while a variant is missing: the click, sections and MIDI
    must stay with the stems."""
    if not (song.transpose or song.tempo.factor != 1) or not stems:
        return song, {}
    variants = ready_variants(song, stems, config)
    if variants is not None:
        return song, variants
    missing = unprepared(song, stems, config, preparing=preparing)
    if refuse:
        problems.error(song.folder / SONG_FILE, "", missing)
        return None, {}
    problems.warn(song.folder / SONG_FILE, "", f"{missing}; {AS_WRITTEN}")
    return song.at(Fraction(1), Fraction(0)), {}


def last_bar(song: Song, frames: int, rate: int) -> int:
    """The bar the song's last frame is in."""
    seconds = Fraction(max(frames - 1, 0), rate)
    return song.meters.bar_beat_at(song.tempo.qn_at_seconds(seconds))[0]


def _sections_within(song: Song, frames: int, rate: int, problems: Problems) -> Song:
    """The song without the sections at or past its end (a jump there would play nothing)."""
    inside = [s for s in song.sections if song.tempo.frame_at(s.qn, rate) < frames]
    if len(inside) == len(song.sections):
        return song
    end = last_bar(song, frames, rate)
    for s in (s for s in song.sections if s not in inside):
        problems.warn(song.folder / SONG_FILE, s.field,
                      f"{s.name!r} at bar {s.bar} is past the song's end (in bar {end}); left out")
    return dataclasses.replace(song, sections=inside)


def song_frames(song: Song, stems: list[StemInfo], rate: int) -> int:
    """An explicit length (bars or a MIDI map's end) wins; else the longest stem, at the
    song's tempo factor (a stem stretched to it lasts round(frames / F))."""
    if song.end_qn is not None:
        return song.tempo.frame_at(song.end_qn, rate)
    return max((variant_frames(s, song.tempo.factor) for s in stems), default=0)


def mixer_inputs(song: Song, stems: list[StemInfo], click: ClickTrack | None,
                 voice: CueTrack | None = None, voice_output: str = CUE_OUTPUT, *,
                 parts: bool = False) -> list[MixerInput]:
    """The mixer's inputs as song.toml routes them: each stem, each part (`parts`: they
    play), then the click, the count-in and the voice."""
    inputs = [MixerInput(s.spec.name, s.channels, s.spec.route, s.spec.gain_db, s.spec.muted,
                         explicit_route=s.spec.explicit_route) for s in stems]
    if parts:
        inputs += part_inputs(song)
    inputs.append(MixerInput(CLICK_INPUT, 1, {song.click.output: None}, muted=not song.click.enabled,
                             is_click=True, source=click))
    # The count-in clicks even when the song's click is off: its own schedule (see
    # LoadedSong.count_in) plays through the click's routing (warned about once, for the
    # click), only before the song.
    inputs.append(MixerInput(COUNT_IN_INPUT, 1, {song.click.output: None}, is_click=True, live=False,
                             explicit_route=False))
    if voice is not None and voice.sounds:     # a song that says nothing has no voice to level
        inputs.append(MixerInput(CUE_INPUT, 1, {voice_output: None}, is_click=True,
                                 source=voice, explicit_route=False))
    return inputs


def check_routing(song: Song, stems: list[StemInfo], config: Config, problems: Problems, *,
                  parts: bool = False) -> None:
    """What `song`'s routing does on this box (the mixer's own code says it), and a click
    the song itself sends where the audience hears it. Part of `validate_song`."""
    where = str(song.folder / SONG_FILE)
    for inp in mixer_inputs(song, stems, None, parts=parts):
        input_routes(inp, config.outputs, config.channels, problems, where)
    if song.click.output != ClickSpec.output:     # the config's click output: checked once
        for front in click_in_front(config.outputs, song.click.output)[:1]:
            problems.warn(where, "click.output",
                          f"the click goes to {song.click.output!r}, which the audience hears "
                          f"through {front!r}")
    _check_cue_output(song, config, problems)


def _check_cue_output(song: Song, config: Config, problems: Problems) -> None:
    """A song that speaks on a box whose config names its outputs but no `cue`: its voice
    goes to the click's output, said (the built-in layout means that, unsaid)."""
    if CUE_OUTPUT in config.outputs or config.outputs == default_outputs(config.channels) \
            or not spoken_words(song, config):
        return
    speaks = "count_in_voice" if counts_in_aloud(song, config) else \
        next(f"{s.field}.guide" for s in song.sections if cues.guide_word(s))
    problems.warn(song.folder / SONG_FILE, speaks,
                  f"this box has no {CUE_OUTPUT!r} output ([outputs] in the config): the "
                  f"voice goes to the click's output {song.click.output!r}")


def load(folder: Path, config: Config, problems: Problems, *, block: int,
         progress: Callable[[str, int], Callable[[int], None]] | None = None,
         tempo: Fraction | None = None, transpose: Fraction | None = None,
         preparing: bool = False) -> LoadedSong | None:
    """The song ready to mix (as `validate_song` finds it), or None when it cannot play.

    `progress(label, total)` returns a callback fed with source frames done
    while a stem is resampled. `tempo`, `transpose`, `preparing`: as for `validate_song`.
    """
    checked = validate_song(folder, config, problems, tempo=tempo, transpose=transpose,
                            preparing=preparing)
    if checked is None:
        return None
    song, stems, frames, words = checked.song, checked.stems, checked.frames, checked.words
    song_file = song.folder / SONG_FILE
    playable: list[StemInfo] = []
    readers: list[StemReader] = []
    for info in stems:
        tick = progress(f"resampling {info.spec.file.name}", info.source_frames) \
            if progress and info.source_rate != config.rate else None
        variant = checked.variants.get(info.index)
        try:
            path = variant or playable_path(info, config.rate, config.cache, tick,
                                            config.cache_mb)
        except ResampleError as exc:
            problems.error(song_file, f"{info.field}.file", f"{info.spec.file.name!r}: {exc}")
            continue
        length = info.frames if variant is None else variant_frames(info, song.tempo.factor)
        readers.append(StemReader(path, info.channels, length, name=info.spec.file.name))
        playable.append(info)
    click = ClickTrack(grid.click_map(song, config.rate, frames),
                       click_sounds(config.rate, song.click.level_db))
    lengths = {k: len(v) for k, v in words.items()}
    voice = CueTrack(words, cues.guide_cues(song, config.rate, lengths),
                     counts_in_aloud(song, config))
    parts, trouble = None, checked.parts_trouble or ""
    if checked.parts_trouble == "":
        try:
            parts = load_parts(song, config)
        except SynthError as exc:
            trouble = without_parts(song, exc, problems)
    inputs = mixer_inputs(song, playable, click, voice, cue_output(song, config.outputs),
                          parts=parts is not None)
    stream = SongStreams(SongStream(readers), parts and parts.stream, parts and parts.plan)
    mixer = Mixer(inputs, stream, config.outputs, config.channels, block,   # its routing
                  config.rate)                          # warnings: made by validate_song
    mixer.trim_db = dict.fromkeys(front_outputs(config), checked.level.gain_db)
    if parts is not None:             # the parts' level follows their intensity from the start
        mixer.expression_db = expression_db(parts.plan.settings.intensity, config.expression_db)
    mixer.update(glide=False)
    return LoadedSong(song, config, stems, frames, click, mixer, stream,
                      Positions.of(song, config.rate, frames), voice, level=checked.level,
                      plan=parts and parts.plan, parts_trouble=trouble,
                      synth=parts and parts.synth)
