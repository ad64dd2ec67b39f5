"""A song uploaded as a zip: checked, unpacked below the library's import folder, made a
song, with its progress kept as a job the page asks about.

The zip has come to disk already (streamed there, never whole in memory). Every entry is
checked before one byte is unpacked: no absolute path, no `..`, no symlink, device file
or pipe, no more than MAX_ENTRIES, no entry that inflates more than MAX_RATIO times, and
no more than the config's upload limit times TOTAL_FACTOR in all; unpacking stops an
entry that gives more than it declared. Then a folder holding a `song.toml` is a Backline
song: checked with `validate_song` (the one check of a song) and renamed into
`songs/` (the same disk: whole or not at all); anything else is a DAW export and goes
through `import_folder`, as `backline import` does.
"""
from __future__ import annotations

import dataclasses
import shutil
import stat
import threading
import zipfile
from pathlib import Path, PurePosixPath

from ..audio.disk.loaded import validate_song
from ..config import Config
from ..errors import BacklineError, Problems
from ..songs.importer import import_folder
from ..timeline.library import Library
from ..timeline.song import SONG_FILE

UPLOAD_DIR = ".uploads"     # in the library: the upload's zip and what it unpacks to
MAX_RATIO = 1100           # deflate gives at most ~1030:1 (a silent stem): past that, a bomb
MAX_ENTRIES = 10_000
TOTAL_FACTOR = 4           # unpacked at most this many times the upload limit
CHUNK = 1024 * 1024


class BadZip(Exception):
    """Why the upload is refused, naming the entry."""


def import_dir(library: Path) -> Path:
    return Path(library) / UPLOAD_DIR


def check_zip(zf: zipfile.ZipFile, total_limit: int) -> list[zipfile.ZipInfo]:
    """The zip's entries, every one checked; BadZip naming the first that is not safe."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BadZip(f"{len(infos)} entries: at most {MAX_ENTRIES}")
    total = 0
    for info in infos:
        name = info.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
            raise BadZip(f"{name!r}: an absolute path")
        if ".." in path.parts:
            raise BadZip(f"{name!r}: a path out of its folder (..)")
        kind = stat.S_IFMT(info.external_attr >> 16)     # 0: no Unix type given, a file
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            what = "a symlink" if kind == stat.S_IFLNK else "a device file, pipe or socket"
            raise BadZip(f"{name!r}: {what}")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BadZip(f"{name!r}: inflates {info.file_size / max(info.compress_size, 1):.0f} "
                         f"times (at most {MAX_RATIO}): a zip bomb?")
        total += info.file_size
        if total > total_limit:
            raise BadZip(f"unpacks to more than {total_limit // 2 ** 20} MB")
    return infos


def unpack(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], dest: Path) -> None:
    """Every file below `dest`, none larger than it said it was."""
    dest = dest.resolve()
    for info in infos:
        target = (dest / info.filename.replace("\\", "/")).resolve()
        if not target.is_relative_to(dest):
            raise BadZip(f"{info.filename!r}: outside the import folder")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        left = info.file_size
        with zf.open(info) as src, open(target, "xb") as out:
            while chunk := src.read(min(CHUNK, left + 1)):
                left -= len(chunk)
                if left < 0:
                    raise BadZip(f"{info.filename!r}: more than the {info.file_size} bytes it declares")
                out.write(chunk)


@dataclasses.dataclass
class Job:
    """What `GET /api/upload/{job}` answers."""
    state: str = "running"
    progress: float = 0.0
    message: str = "unpacking"
    song: str | None = None

    def view(self) -> dict:
        return dataclasses.asdict(self)


class _Progress:
    """import_folder's progress (frames done of all) as the job's 0..1."""

    def __init__(self, job: Job) -> None:
        self.job, self.total, self.done = job, 1, 0

    def expect(self, total: int) -> None:
        self.total, self.done = max(total, 1), 0

    def __call__(self, label: str, total: int):
        self.job.message = label

        def tick(frames: int) -> None:
            self.done += frames
            self.job.progress = round(min(0.99, 0.1 + 0.9 * self.done / self.total), 3)
        return tick


def _song_root(folder: Path) -> Path | None:
    """The Backline song folder in what was unpacked: at the top or one folder down."""
    if (folder / SONG_FILE).is_file():
        return folder
    inner = [p for p in folder.iterdir() if p.is_dir()]
    if len(inner) == 1 and (inner[0] / SONG_FILE).is_file():
        return inner[0]
    return None


def _stems_root(folder: Path) -> Path:
    """A DAW export zipped as its folder: that folder."""
    inner = list(folder.iterdir())
    return inner[0] if len(inner) == 1 and inner[0].is_dir() else folder


def make_song(zip_path: Path, name: str, config: Config, job: Job, *,
              bpm: float | None = None) -> None:
    """The job's work (on its own thread): the zip checked, unpacked, made the song `name`.
    The zip and what it unpacked to are removed whatever happens."""
    library = Library(config.library)
    work = zip_path.with_suffix("")
    try:
        with zipfile.ZipFile(zip_path) as zf:
            infos = check_zip(zf, config.web_upload_mb * 2 ** 20 * TOTAL_FACTOR)
            work.mkdir()
            unpack(zf, infos, work)
        job.progress = 0.1
        song = _song_root(work)
        target = library.song_dir(name)
        if song is not None:
            job.message = "checking the song"
            problems = Problems()
            if validate_song(song, config, problems) is None:
                errors = problems.errors or problems
                raise BadZip(str(errors[0]) if errors else "the song cannot play")
            if target.exists():
                raise BadZip(f"{name}: the library has a song of that name already")
            library.songs_dir.mkdir(parents=True, exist_ok=True)
            song.rename(target)
        else:
            import_folder(_stems_root(work), library.path, config=config, name=name, bpm=bpm,
                          progress=_Progress(job))
        job.song, job.state, job.progress, job.message = name, "done", 1.0, f"{name}: imported"
    except zipfile.BadZipFile as exc:
        job.state, job.message = "failed", f"not a zip file: {exc}"
    except (BadZip, BacklineError) as exc:
        job.state, job.message = "failed", str(exc)
    except OSError as exc:
        job.state, job.message = "failed", f"{exc.filename or zip_path}: {exc.strerror or exc}"
    finally:
        zip_path.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def start(zip_path: Path, name: str, config: Config, *, bpm: float | None = None) -> Job:
    job = Job()
    threading.Thread(target=make_song, args=(zip_path, name, config, job), kwargs={"bpm": bpm},
                     name="backline-web-upload", daemon=True).start()
    return job
