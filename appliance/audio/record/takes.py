"""Takes on disk: the writer thread that drains the capture ring into one WAV file per
armed input, the take folder and its `take.toml`, and the repair of takes a crash left.

A take is `recordings/<date>-<song>-take<N>/` holding `take.toml` (what a DAW import
needs to line the files up with the song) and `<input>.wav` per armed input. Files are
synced (header sizes rewritten, fsync) every second of audio, so a power cut loses at
most that; `take.toml` says `complete = false` until the take is closed, which is how
`recover` finds the ones to repair. A full or failing disk ends the take with its files
valid and tells the audio thread (`recorder.fault`); playback never notices.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ...errors import Problem
from ...files import replace_file
from ...lifetime import Lifetime
from ...timeline.beatmap import BeatMap
from ..threads.priority import HELPER, realtime
from .recorder import Recorder, TakeStart, TakeStop
from .wavfile import TakeFile, repair

TAKE_FILE = "take.toml"
POLL_S = 0.05           # how often the writer looks at the ring (it holds RING_S seconds)
SPACE_S = 1.0           # how often the time left on the disk is worked out
CHUNK = 8192            # frames moved from the ring per write


@dataclass
class _Open:
    start: TakeStart
    folder: Path
    files: list[TakeFile]
    meta: dict
    stop: int | None = None
    reason: str = ""
    unsynced: int = 0


class TakeWriter(threading.Thread, Lifetime):
    """The thread that writes takes. `with TakeWriter(...) as w:` does not start it (a
    player starts it; a test may drive `step()` by hand); leaving the block stops it,
    closing a running take with what was captured."""

    def __init__(self, recorder: Recorder, folder: Path, *, rate: int,
                 subtype: str = "PCM_24") -> None:
        """`folder`: the recordings folder; `subtype`: PCM_24 or FLOAT."""
        super().__init__(name="backline-writer", daemon=True)
        self.recorder = recorder
        self.folder = folder
        self.rate = rate
        self.subtype = subtype
        self.take: _Open | None = None
        self.closed: list[Path] = []                 # folders of finished takes
        self._halt = threading.Event()
        self._space_at = 0.0
        self._buf = np.zeros((CHUNK, 1), dtype=np.float32)

    def run(self) -> None:
        realtime(HELPER)
        while not self._halt.wait(POLL_S):
            self.step()
        self.step()
        if self.take is not None:                   # stopping mid-take: keep what was captured
            self._close("the box stopped")

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join()

    def step(self) -> None:
        """Write what the ring holds for the running take; open and close takes."""
        rec = self.recorder
        ring = rec.ring
        if ring is None:
            return
        if ring.data.shape[1] != self._buf.shape[1]:
            self._buf = np.zeros((CHUNK, ring.data.shape[1]), dtype=np.float32)
        self._space()
        written = ring.written                       # before looking at the events
        while True:
            take = self.take
            if take is None:
                if not rec.events:
                    ring.consumed = max(ring.consumed, written)     # between takes: let go
                    return
                ev = rec.events.popleft()
                if isinstance(ev, TakeStart):
                    self._open(ev)
                continue
            if take.stop is None and rec.events and isinstance(rec.events[0], TakeStop):
                ev = rec.events.popleft()
                take.stop, take.reason = ev.frame, ev.reason
            if ring.consumed < take.start.frame:
                ring.consumed = min(take.start.frame, written)
            end = written if take.stop is None else min(written, take.stop)
            if not self._write(take, ring.consumed, end):
                continue                              # failed: the take is closed
            if take.stop is not None and ring.consumed >= take.stop:
                self._close(take.reason)
                continue
            return

    # -- one take -------------------------------------------------------------------
    def _open(self, start: TakeStart) -> None:
        song = start.song
        name = song.song.name if song is not None else "rehearsal"
        try:
            folder = new_take_folder(self.folder, name)
            files = [TakeFile(folder / f"{n}.wav", rate=self.rate, subtype=self.subtype)
                     for n, _ in start.inputs]
        except OSError as exc:
            self._fault(exc)
            return
        meta = take_meta(start, self.rate, self.subtype)
        self.take = _Open(start, folder, files, meta)
        self.recorder.take_name = folder.name
        self._save_meta(complete=False)

    def _write(self, take: _Open, first: int, end: int) -> bool:
        ring = self.recorder.ring
        buf = self._buf
        try:
            while first < end:
                n = min(CHUNK, end - first)
                ring.read(first, n, buf)
                for f, (_, ch) in zip(take.files, take.start.inputs):
                    f.write(buf[:n, ch])
                first += n
                ring.consumed = first
                take.unsynced += n
            if take.unsynced >= self.rate:
                for f in take.files:
                    f.sync()
                take.unsynced = 0
        except OSError as exc:
            self._fault(exc)
            return False
        return True

    def _close(self, reason: str) -> None:
        take = self.take
        self.take = None
        failed: OSError | None = None
        # a disk that filled mid-block left some files a block ahead of the others
        frames = min((f.frames for f in take.files), default=0)
        for f in take.files:
            try:
                f.cut(frames)
                f.close()
            except OSError as exc:
                failed = failed or exc
        take.meta.update(frames=frames, stopped=reason,
                         dropped_periods=self.recorder.dropped)
        self._save_meta(complete=True, take=take)
        self.closed.append(take.folder)
        if failed is not None:
            self._fault(failed)

    def _fault(self, exc: OSError) -> None:
        why = "the disk is full" if exc.errno == errno.ENOSPC else f"cannot write: {exc}"
        self.recorder.fault = f"{why}: recording stopped"
        if self.take is not None:
            self._close(self.recorder.fault)

    def _save_meta(self, *, complete: bool, take: _Open | None = None) -> None:
        take = take or self.take
        try:
            write_take_toml(take.folder, {**take.meta, "complete": complete})
        except OSError:
            pass                    # the audio files are what matter; recover rebuilds it

    def _space(self) -> None:
        now = time.monotonic()
        if now - self._space_at < SPACE_S:
            return
        self._space_at = now
        rec = self.recorder
        try:
            free = shutil.disk_usage(self.folder if self.folder.exists()
                                     else self.folder.parent).free
        except OSError:
            rec.left_s = None
            return
        per_s = max(1, len(rec.armed)) * self.rate * (4 if self.subtype == "FLOAT" else 3)
        rec.left_s = free / per_s


def new_take_folder(recordings: Path, song: str) -> Path:
    """`<date>-<song>-take<N>`, N one more than any take of that song that day."""
    recordings.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now():%Y-%m-%d}-{song}-take"
    taken = [int(p.name[len(stem):]) for p in recordings.glob(f"{stem}*")
             if p.name[len(stem):].isdigit()]
    folder = recordings / f"{stem}{max(taken, default=0) + 1}"
    folder.mkdir()
    return folder


def take_meta(start: TakeStart, rate: int, subtype: str) -> dict:
    song = start.song
    meta: dict = {
        "song": song.song.title if song is not None else "",
        "song_folder": str(song.song.folder) if song is not None else "",
        "setlist_position": start.index if song is not None else 0,
        "start_frame": start.song_frame,
        "rate": rate,
        "format": subtype,
        "latency_frames": start.latency,
        "started": f"{datetime.now():%Y-%m-%dT%H:%M:%S}",
        "inputs": [{"name": n, "channel": ch + 1, "file": f"{n}.wav"} for n, ch in start.inputs],
    }
    if song is not None:
        meta["tempo"] = tempo_changes(song.positions.beats)
    return meta


def tempo_changes(beats: BeatMap) -> list[dict]:
    """The beats where the tempo or meter changes (the first included): a DAW's tempo map."""
    out: list[dict] = []
    last = None
    for i in beats.changes():
        now = beats.tempo(i)
        if now != last:
            bar, beat = beats.bar_beat(i)
            bpm, meter = now
            out.append({"bar": bar, "beat": beat, "frame": beats.frame(i),
                        "bpm": round(bpm, 6), "meter": meter})
            last = now
    return out


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):          # what a hand-edited take.toml may hold
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))        # a JSON string is a TOML basic string


def write_take_toml(folder: Path, meta: dict) -> None:
    """Never half a take.toml (`replace_file`); on a full disk, over the old one in place."""
    lines = ["# A Backline take: each file is one input, starting at start_frame on the",
             "# song's timeline (bar 1 beat 1 = 0; the count-in is before it).", ""]
    tables = {k: v for k, v in meta.items()
              if isinstance(v, list) and v and all(isinstance(row, dict) for row in v)}
    for k, v in meta.items():
        if k not in tables:
            lines.append(f"{k} = {_toml_value(v)}")
    for k, rows in tables.items():
        for row in rows:
            lines += ["", f"[[{k}]]", *(f"{a} = {_toml_value(b)}" for a, b in row.items())]
    text = "\n".join(lines) + "\n"
    try:
        replace_file(folder / TAKE_FILE, text)
    except OSError as exc:
        if exc.errno != errno.ENOSPC or not (folder / TAKE_FILE).exists():
            raise
        with open(folder / TAKE_FILE, "r+") as f:    # a full disk: over the old one, in the
            f.write(text)                              # blocks it already has
            f.truncate()
            f.flush()
            os.fsync(f.fileno())


def recover(recordings: Path) -> list[str]:
    """Repair every take a crash left unfinished; one line per take, saying what it holds
    or why it was left as it is. Never raises: it runs before the daemon is READY."""
    said = []
    for meta_path in sorted(recordings.glob(f"*/{TAKE_FILE}")):
        try:
            said += _recover_take(meta_path)
        except OSError as exc:       # e.g. the folder turned read-only under us
            said.append(f"{meta_path.parent}: cannot repair now ({exc}); left as it is")
    return said


def _recover_take(meta_path: Path) -> list[str]:
    folder = meta_path.parent
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [f"{meta_path}: cannot read: {exc}"]
    complete = meta.get("complete", True)
    if complete is True:
        return []
    if complete is not False:
        return [str(Problem(meta_path, "complete", f"must be true or false, not {complete!r}; "
                                                   "left as it is"))]
    inputs = meta.get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(e, dict) for e in inputs):
        return [str(Problem(meta_path, "inputs", f"must be a list of [[inputs]] tables, not "
                                                 f"{inputs!r}; left as it is"))]
    if not os.access(folder, os.W_OK):
        return [f"{folder}: cannot repair now: the folder is read-only; left as it is"]
    said: list[str] = []
    frames = []
    for i, entry in enumerate(inputs, 1):
        path = _take_file(folder, entry.get("file"))
        if isinstance(path, str):
            said.append(str(Problem(meta_path, f"inputs[{i}].file", path)))
            continue
        try:
            frames.append(repair(path))
        except ValueError as exc:             # it names the file
            said.append(str(exc))
        except OSError as exc:
            said.append(f"{path}: {exc}")
    meta.update(complete=True, recovered=True, frames=min(frames, default=0))
    write_take_toml(folder, meta)
    rate = meta.get("rate")
    if isinstance(rate, int) and not isinstance(rate, bool) and rate > 0:
        length = f", {meta['frames'] / rate:.1f} s"
    else:
        length = ""
        said.append(str(Problem(meta_path, "rate", f"must be a whole number of Hz, "
                                                   f"not {rate!r}")))
    return said + [f"{folder.name}: recovered {len(frames)} files{length}"]


def _take_file(folder: Path, name: object) -> Path | str:
    """A take's audio file, or why not: only a file inside its own take folder is opened."""
    if not isinstance(name, str) or not name:
        return f"must be a file name, not {name!r}; not opened"
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        return f"{name!r} is not in the take folder {folder}; not opened"
    return path
