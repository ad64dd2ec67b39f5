"""`backline import`: a folder of stems as a DAW exports it becomes a library song.

Each audio file is checked as the loader checks a stem (header, length, tail); one that is
not usable is reported by name and left out, the rest imported. The tempo comes from a MIDI
file (given, or the one in the folder: its markers become sections), else `--bpm`, else the
click track. The song is built in a hidden folder inside the library's songs/ (the same
filesystem), checked as `backline check` would, and renamed into place: a crash or a full
disk leaves the old song or none, never half of one. Then its stems are resampled into the
cache and its loudness measured (loudness.py); a failure there leaves the song whole, only
not yet measured (`backline prepare` does it). The source folder is only read.
"""
from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import soundfile as sf

from ..audio.disk.loaded import validate_song
from ..audio.disk.cache import HEADER_BYTES
from ..audio.disk.stems import StemInfo, inspect_stem
from ..config import Config, load_config
from ..errors import BacklineError, Problem, Problems
from ..timeline.library import Library
from ..timeline.loudness import LOUDNESS_FILE, Level
from ..timeline.meter import Meter
from ..timeline.midi_import import read_midi_timing
from ..timeline.song import SONG_FILE, StemSpec
from ..tomlfields import a_path
from . import click_tempo
from .loudness import prepare
from .names import AUDIO_SUFFIXES, MIDI_SUFFIXES, Role, role, stem_name, unique_names
from .songfile import StemEntry, Timing, song_toml
from .space import Free, disk_free, shortfall

ON_BEAT_S = 0.001          # a click's beats this close to the stems' grid: it starts on a beat


class ImportProgress(Protocol):
    """What the import reports its work to (ui.progress.Overall draws it)."""

    def expect(self, total: int) -> None:
        """All the work to come, in frames (resampled and measured)."""

    def __call__(self, label: str, total: int) -> Callable[[int], None]:
        """One part of it: the returned callback is fed frames as they are done."""


@dataclass(frozen=True)
class Planned:
    source: Path
    entry: StemEntry
    info: StemInfo


@dataclass
class ImportResult:
    song_dir: Path
    stems: list[Planned]
    timing: Timing
    tempo_note: str                  # where the tempo came from, and how sure
    needs: dict[Path, int]           # bytes to be written, per folder
    problems: Problems = field(default_factory=Problems)   # files left out, stems dropped
    level: Level | None = None       # the loudness measured (None: dry run, or it failed)
    dry_run: bool = False


def import_folder(src: Path, library: Path, *, config: Config | None = None,
                  name: str | None = None, tempo_map: Path | None = None,
                  bpm: float | None = None, meter: str | None = None, replace: bool = False,
                  dry_run: bool = False, progress: ImportProgress | None = None,
                  free: Free = disk_free) -> ImportResult:
    """Import the stems in `src` as the song `name` (default: the folder's name) of
    `library`. BacklineError, naming the file and what to do, when nothing can be made."""
    src = Path(src)
    config = config or load_config()
    if not src.is_dir():
        _fail(src, "no such folder" if not src.exists() else "is a file, not a folder of stems")
    name = name or src.resolve().name
    why = a_path(name)
    if why or "/" in name or name.startswith("."):
        _fail(src, f"the song name {name!r} cannot be a folder name"
                   + (f": {why}" if why else " (no / and no leading dot)"))
    target = Library(library).song_dir(name)
    problems = Problems()
    stems = _stems(src, config, problems)
    if not stems:
        _fail(src, "no usable WAV, FLAC or AIFF file here to import", problems)
    timing, note, midi_src = _timing(src, stems, tempo_map, bpm, meter, problems)
    needs = _needs(target, stems, midi_src, config)
    short = shortfall(needs, config, free)
    if short:
        _fail(src, short, problems)
    result = ImportResult(target, stems, timing, note, needs, problems, dry_run=dry_run)
    if dry_run:
        return result
    if progress:
        progress.expect(sum(p.info.source_frames for p in stems
                            if p.info.source_rate != config.rate)
                        + max(p.info.frames for p in stems))
    _build(src, target, stems, timing, midi_src, replace, config, problems)
    try:
        result.level = prepare(target, config, progress)
    except BacklineError as exc:
        problems.warn(target / LOUDNESS_FILE, "", f"loudness not measured: {exc}; "
                      "`backline prepare` measures it")
    return result


def _fail(path: Path, message: str, problems: Problems | None = None) -> None:
    problem = Problem(path, "", message)
    raise BacklineError(problem, Problems([*(problems or []), problem]))


def _stems(src: Path, config: Config, problems: Problems) -> list[Planned]:
    """The usable audio files, named and routed; the others reported by name."""
    files = sorted(p for p in src.iterdir()
                   if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))
    checked: list[tuple[Path, StemInfo]] = []
    for i, path in enumerate(files, 1):
        found = Problems()
        info = inspect_stem(StemSpec(path.stem, path, {}), i, config.rate, path, found)
        for p in found:       # a file left out does not stop the import: a warning
            problems.warn(path, "", p.message + ("" if p.warning else "; left out"))
        if info is not None:
            checked.append((path, info))
    names = unique_names([stem_name(p.name) for p, _ in checked])
    return [Planned(p, StemEntry(p.name, n, role(n)), info)
            for (p, info), n in zip(checked, names)]


def _timing(src: Path, stems: list[Planned], tempo_map: Path | None, bpm: float | None,
            meter: str | None, problems: Problems) -> tuple[Timing, str, Path | None]:
    """(song.toml's timing, where it came from, the MIDI file to copy)."""
    meter = meter or "4/4"
    try:
        m = Meter.parse(meter)
    except ValueError as exc:
        _fail(src, f"--meter {meter}: {exc}")
    per_pulse = 3 if m.compound else 1            # denominator notes in one click pulse
    midis = sorted(p for p in src.iterdir() if p.suffix.lower() in MIDI_SUFFIXES)
    if tempo_map is None and len(midis) > 1:
        _fail(src, f"{len(midis)} MIDI files here ({', '.join(p.name for p in midis)}): "
                   "say which is the tempo map with --tempo-map", problems)
    tempo_map = tempo_map or (midis[0] if midis and bpm is None else None)
    if tempo_map is not None:
        try:
            read_midi_timing(Path(tempo_map))
        except ValueError as exc:
            _fail(Path(tempo_map), str(exc), problems)
        return Timing(tempo_map=Path(tempo_map).name), f"tempo map {Path(tempo_map).name}", \
            Path(tempo_map)
    if bpm is not None:
        return Timing(bpm=bpm, meter=meter), f"{bpm:g} BPM (--bpm)", None
    clicks = [p for p in stems if p.entry.role is Role.CLICK]
    if not clicks:
        _fail(src, "no tempo: no MIDI tempo map and no click track here; give the tempo "
                   "with --bpm N (and --meter, default 4/4) or --tempo-map FILE.mid", problems)
    click = clicks[0]
    found = click_tempo.detect(_read(click.source), click.info.source_rate, m.beats)
    if found is None:
        _fail(click.source, "fewer than 4 clicks: no tempo to find; give --bpm N", problems)
    if not found.steady:
        _fail(click.source, f"the click changes tempo ({found.onsets} clicks, "
                            f"{found.on_grid:.0%} on one grid): give its MIDI tempo map with "
                            "--tempo-map FILE.mid", problems)
    period = 60.0 / found.bpm
    offset = found.first_beat_s - round(found.first_beat_s / period) * period
    pickup = 0
    if abs(offset) > ON_BEAT_S:
        problems.warn(click.source, "", f"its first click is {found.first_beat_s:.4f} s in, "
                      f"{offset * 1000:+.1f} ms off the beats of a grid from the stems' start: "
                      "the box's click will be that far off; export from a bar line or give "
                      "the MIDI tempo map")
    else:
        pickup = round(found.downbeat_s / period) % m.beats * per_pulse
    bpm = found.bpm * per_pulse * 4 / m.denominator      # song.toml counts quarter notes
    return Timing(bpm=bpm, meter=meter, pickup_beats=pickup), found.describe(), None


def _read(path: Path) -> np.ndarray:
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    return data


def _needs(target: Path, stems: list[Planned], midi: Path | None,
           config: Config) -> dict[Path, int]:
    """Bytes to write: the files copied into the library, the resampled copies in the cache."""
    copied = sum(p.source.stat().st_size for p in stems) + (midi.stat().st_size if midi else 0)
    needs = {target.parent: copied + (64 << 10)}
    cached = sum(p.info.frames * p.info.channels * 4 + HEADER_BYTES for p in stems
                 if p.info.source_rate != config.rate)
    if cached:
        needs[Path(config.cache)] = needs.get(Path(config.cache), 0) + cached
    return needs


def _build(src: Path, target: Path, stems: list[Planned], timing: Timing, midi: Path | None,
           replace: bool, config: Config, problems: Problems) -> None:
    """The song made in a hidden folder beside `target`, checked, and renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".import-{target.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    old = target if target.is_dir() and not replace else None
    existing = (old / SONG_FILE).read_text(encoding="utf-8") if old and (old / SONG_FILE).is_file() \
        else None
    try:
        tmp.mkdir()
        for p in stems:
            shutil.copy2(p.source, tmp / p.entry.file)
        if midi is not None:
            shutil.copy2(midi, tmp / midi.name)
        text, dropped = song_toml([p.entry for p in stems], timing, existing)
        for gone in dropped:
            problems.warn(target / SONG_FILE, "stem", f"{gone!r} is no longer in {src}: dropped")
        if old is not None:
            _keep_others(old, tmp, dropped_files=_files_of(existing, dropped))
        (tmp / SONG_FILE).write_text(text, encoding="utf-8")
        checked = Problems()
        if validate_song(tmp, config, checked) is None or checked.errors:
            first = checked.errors[0]
            _fail(target / SONG_FILE, f"the written song does not pass check: "
                                      f"{first.field}: {first.message}", problems)
        for p in checked:                       # warnings (a cue output the box lacks ...)
            problems.append(Problem(target / SONG_FILE, p.field, p.message, p.warning))
        _swap(tmp, target)
    except OSError as exc:
        why = "the disk is full" if exc.errno == 28 else (exc.strerror or str(exc))
        _fail(target, f"cannot write the song: {why}; the library is as it was", problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _files_of(existing: str | None, dropped: list[str]) -> set[str]:
    """The files of the stems a re-import dropped (not carried over into the new song)."""
    if existing is None or not dropped:
        return set()
    stems = tomllib.loads(existing).get("stem", [])
    return {s.get("file") for s in stems if str(s.get("name", s.get("file"))) in dropped}


def _keep_others(old: Path, new: Path, dropped_files: set[str]) -> None:
    """Files the user put in the song (a lights MIDI file, notes) go into the new one too."""
    for p in old.iterdir():
        if p.is_file() and not (new / p.name).exists() and p.name not in dropped_files \
                and p.name not in (SONG_FILE, LOUDNESS_FILE):
            try:
                os.link(p, new / p.name)       # same filesystem: no copy
            except OSError:
                shutil.copy2(p, new / p.name)


def _swap(tmp: Path, target: Path) -> None:
    """`tmp` becomes `target`; an old song there is moved aside first and then removed."""
    if not target.exists():
        os.rename(tmp, target)
        return
    aside = target.with_name(f".replaced-{target.name}-{os.getpid()}")
    os.rename(target, aside)
    os.rename(tmp, target)
    shutil.rmtree(aside, ignore_errors=True)
