"""A chart song's parts made ready: the live plan they follow, the synthesiser's readers in
their own shallow ring, the synth thread that fills it, and a mixer input per part.

The ring is shallow on purpose (`RING_FRAMES` frames, `SYNTH_CHUNK` at a time: about 170 ms at
48 kHz): what is synthesised ahead was made with the settings of its moment, so the less is
ahead, the sooner a new key or intensity is heard. The synth thread runs at the disk
threads' priority; the synthesiser publishes how far it has rendered the run playing
(`plan.head`, told where that run starts by `SongStreams`), so the transport can put a
change exactly where it is still to come.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...config import Config
from ...errors import Problems
from ...timeline.song import Song
from ..mix.mixer import MixerInput
from ..synth.plan import DEFAULT_INTENSITY, PartsPlan, Settings
from ..synth.errors import SynthError
from ..synth.fluid import library
from ..synth.parts import PartsSynth
from ..synth.soundfont import choose
from .streaming import DiskThread, SongStream

RING_FRAMES = 8192     # frames per ring: what is ahead of the ear when a change comes
SYNTH_CHUNK = 2048     # frames synthesised at a time
SYNTH_IDLE_S = 0.02    # the ring holds 170 ms: a missed wake-up must cost far less


@dataclass
class Parts:
    """What a chart song's parts play with: the plan they follow, the stream they fill."""

    plan: PartsPlan
    stream: SongStream
    synth: PartsSynth


def synth_thread(stream: SongStream) -> DiskThread:
    """The thread that synthesises the parts into their ring: a disk thread's loop at its
    priority, woken sooner when idle since the ring is shallow."""
    return DiskThread([stream], name="backline-synth", idle_s=SYNTH_IDLE_S)


def plays_parts(song: Song) -> bool:
    """Whether `song` has parts to sound: a chart song whose song.toml does not silence them."""
    return song.chart is not None and song.parts is not None and song.parts.enabled


def sound(config: Config) -> Path:
    """The SoundFont this box plays parts with, FluidSynth found; SynthError naming the
    file (the SoundFont, or the library) when the parts cannot sound."""
    library()
    return choose(config.soundfont)


def check_sound(song: Song, config: Config, problems: Problems) -> str | None:
    """Whether `song`'s parts can sound on this box: None when it has none, "" when they
    can, else why not (warned, naming the file: FluidSynth or the SoundFont)."""
    if not plays_parts(song):
        return None
    try:
        sound(config)
    except SynthError as exc:
        return without_parts(song, exc, problems)
    return ""


def soundfont_of(song: Song, config: Config) -> Path | None:
    """The SoundFont `song`'s parts sound with on this box (what its loudness depends on);
    None when it has no parts or they cannot sound."""
    if not plays_parts(song):
        return None
    try:
        return sound(config)
    except SynthError:
        return None


def without_parts(song: Song, exc: SynthError, problems: Problems) -> str:
    """The warning that `song` plays without its parts, naming the file; its words."""
    p = exc.problem
    problems.warn(p.file, p.field, f"{p.message}; {song.name} plays without its parts")
    return f"{p.file.name}: {p.message}"


def load_parts(song: Song, config: Config) -> Parts:
    """The song's parts ready to play (`check_sound` found they can); SynthError when the
    synthesiser cannot start after all."""
    spec = song.parts
    intensity = DEFAULT_INTENSITY if spec.intensity is None else spec.intensity
    plan = PartsPlan(Settings(song.tempo, transpose=round(song.transpose), intensity=intensity))
    programs = {p.name: p.program for p in spec.parts if p.program is not None}
    synth = PartsSynth(song.chart, plan, config.rate, soundfont=sound(config),
                       seed=spec.seed, programs=programs)
    by_name = {r.name: r for r in synth.readers}
    readers = [by_name[p.name] for p in spec.parts]
    return Parts(plan, SongStream(readers, RING_FRAMES, chunk=SYNTH_CHUNK), synth)


def part_inputs(song: Song) -> list[MixerInput]:
    """Each part's mixer input, in song order: stereo, routed and levelled like a stem."""
    return [MixerInput(p.name, 2, p.route, p.gain_db, p.muted, explicit_route=p.explicit_route,
                       expression=True) for p in song.parts.parts]
