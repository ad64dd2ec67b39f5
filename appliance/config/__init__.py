"""The box's configuration: audio device, named outputs and inputs, library, recording.

Read from `--config`, else $BACKLINE_CONFIG, else /etc/backline/config.toml
when it exists, else defaults that suit a stereo sound card at 48 kHz. Then the learned
file (`[box] learned`): what MIDI learn and `backline calibrate` keep, on a path the
hardened unit can write (it cannot write /etc); its values win.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..audio.backends import DEFAULT as DEFAULT_BACKEND
from ..audio.backends import chosen
from ..errors import BacklineError, Problem, Problems
from ..timeline.song_stems import NAME_RE
from ..tomlfields import Table, a_path, in_range, load_toml, one_of
from .layout import Controls, read_controls
from .midi_map import MidiSpec, read_midi, read_rule

SYSTEM_CONFIG = Path("/etc/backline/config.toml")
LEARNED = Path("/var/lib/backline/learned.toml")    # under the unit's ReadWritePaths
DEMO_LIBRARY = Path(__file__).parent.parent / "demo"
RATES = (22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "backline"


def _default_recordings() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "backline" / "recordings"


RECORD_FORMATS = {"24": "PCM_24", "float": "FLOAT"}
FRONT_OUTPUTS = ("foh", "main", "pa")     # outputs the audience hears: never the click in them
CUE_OUTPUT = "cue"                        # the voice's; a box without one: the click's


def default_outputs(channels: int) -> dict[str, tuple[int, ...]]:
    """The layout of a config without [outputs]: the click only where the audience is not.

    Two channels: the tracks folded to mono on 1 (to FOH), the click on 2 (to the ears), as
    stereo backing-track players do. More: FOH stereo on 1-2, the click on 3. One channel
    has no room for the click apart from FOH, so it is left out (read_config says so).
    """
    if channels == 1:
        return {"foh": (1,)}
    if channels == 2:
        return {"foh": (1,), "click": (2,)}
    return {"foh": (1, 2), "click": (3,)}


def front_outputs(config: "Config") -> dict[str, tuple[int, ...]]:
    """The outputs the audience hears (FRONT_OUTPUTS) this box has: its FOH mix."""
    return {name: config.outputs[name] for name in FRONT_OUTPUTS if name in config.outputs}


def click_in_front(outputs: dict[str, tuple[int, ...]], click: str) -> list[str]:
    """The FOH outputs (foh/main/pa) that the output `click` is, or shares a channel with."""
    chans = set(outputs.get(click, ()))
    return [name for name in FRONT_OUTPUTS
            if name == click or (name in outputs and chans & set(outputs[name]))]


CEILING_DB = (-24.0, 0.0)         # the safety limiter's ceiling, dBTP
CACHE_MB = (1, 1 << 20)            # the resampling cache's cap, MB
LOUDNESS_TARGET = (-40.0, -5.0)    # the FOH loudness songs are played at, LUFS
EXPRESSION_DB = (0.0, 40.0)        # how much quieter a chart's parts are at intensity 0
PANEL_KEYS = ("hat", "controls", "switch", "combo", "encoder", "led", "display", "midi")


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    backend: str = DEFAULT_BACKEND      # the audio backend module ($BACKLINE_AUDIO_BACKEND wins)
    device: str = "default"
    rate: int = 48000
    period: int = 256
    periods: int = 3
    channels: int = 2
    format: str = "S32_LE"
    # Named outputs -> 1-based device channels. Outputs may share channels (they add up).
    outputs: dict[str, tuple[int, ...]] = field(default_factory=lambda: default_outputs(2))
    library: Path = DEMO_LIBRARY
    cache: Path = field(default_factory=_default_cache)
    cache_mb: int = 4096                  # the cache's cap; least recently used entries go
    controls: Controls = Controls()       # footswitches, encoders, LEDs, display
    input_channels: int = 0               # the device's capture channels (0: record nothing)
    inputs: dict[str, int] = field(default_factory=dict)   # named inputs -> 1-based channel
    recordings: Path = field(default_factory=_default_recordings)
    record_format: str = "PCM_24"         # PCM_24 or FLOAT
    latency: int = 0                      # round trip out -> in, frames (backline calibrate)
    midi: MidiSpec = MidiSpec()
    count_in_voice: bool = False          # the voice counts songs in ([voice] count_in)
    soundfont: Path | None = None         # a chart song's parts' .sf2 ([parts] soundfont)
    limiter: bool = True                  # the output safety limiter (docs/engine.md)
    ceiling_db: float = -1.0              # its ceiling, dBTP
    loudness_target: float = -16.0        # every song's FOH mix played at this, LUFS
    learned: Path = LEARNED               # what MIDI learn and calibrate keep, read after this
    web_upload_mb: int = 2048             # the web remote's largest upload ([web] upload_limit_mb)
    web_tls_cert: Path | None = None      # the web remote's TLS certificate ([web] tls_cert)
    web_tls_key: Path | None = None       # ... and its key ([web] tls_key); both or neither
    expression_db: float = 12.0           # the parts at intensity 0 this much below 1 ([parts])
    warnings: tuple = ()                  # Problems that left a part out (the daemon logs them)


def _soundfont(t: Table, base: Path) -> Path | None:
    """`[parts] soundfont`, relative to the config; one that is not there is a warning and
    the box's own SoundFont plays the parts, so a typo never keeps the box from playing."""
    name = t.get("soundfont", str, None, check=a_path)
    t.finish()
    if name is None:
        return None
    path = base / name
    if not path.is_file():
        t.warn("soundfont", f"{str(path)!r} is not a file; the parts play with the box's own "
                            "SoundFont")
        return None
    return path


def _ceiling(db: float) -> str | None:
    low, high = CEILING_DB
    if not low <= db <= high:          # nan and inf: refused by Table.get already
        return f"must be a number of dBTP from {low:g} to {high:g}, not {db}"
    return None


def config_path(explicit: str | Path | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("BACKLINE_CONFIG")
    if env:
        return Path(env)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else None


def load_config(explicit: str | Path | None = None) -> Config:
    """The config, or BacklineError naming the first bad field (all are in `.problems`)."""
    path = config_path(explicit)
    if path is None:
        return with_learned(Config())
    problems = Problems()
    config = read_config(path, problems)
    if problems.errors or config is None:
        raise BacklineError(problems.errors[0] if problems.errors else Problem(path, "", "unusable"),
                            problems or None)
    return with_learned(config)


def with_learned(config: Config) -> Config:
    """The config with the learned file's latency and MIDI rules on top (a learned rule
    replaces the config's for the same trigger). A learned file that cannot be read whole
    is a warning naming its file and field, and the box goes on with the config alone."""
    path = config.learned
    if not path.exists():
        return config
    problems = Problems()
    data = load_toml(path, problems)
    if data is not None:
        top = Table(data, file=path, where="", problems=problems)
        rec = top.table("recording")
        latency = rec.get("latency", int, config.latency, check=in_range(0, 48000))
        rec.finish()
        midi = top.table("midi")
        rules = []
        for t in midi.tables("map"):
            rule = read_rule(t, tuple(config.outputs))
            t.finish()
            if rule is not None:
                rules.append(rule)
        midi.finish()
        top.finish()
    if problems:
        kept = tuple(replace(p, warning=True, message=f"{p.message}; the learned file is left "
                             "out, the config's own values are used") for p in problems)
        return replace(config, warnings=config.warnings + kept)
    return replace(config, latency=latency,
                   midi=replace(config.midi, rules=config.midi.rules + tuple(rules)))


def check_layout(config: Config, problems: Problems) -> None:
    """Warn when the config's click output is heard by the audience (`backline check`;
    the box still plays what the config says)."""
    for front in click_in_front(config.outputs, "click"):
        problems.warn(config.path or Path("(built-in defaults)"), "outputs.click",
                      f"shares device channels with {front!r}: the audience hears the click")


def read_config(path: Path, problems: Problems) -> Config | None:
    data = load_toml(path, problems)
    if data is None:
        return None
    top = Table(data, file=path, where="", problems=problems)
    audio = top.table("audio")
    d = Config()
    backend = audio.get("backend", str, d.backend)
    try:
        formats = chosen(backend, path).SAMPLE_FORMATS
    except BacklineError as exc:
        problems.append(exc.problem)
        formats = (d.format,)
    device = audio.get("device", str, d.device)
    rate = audio.get("rate", int, d.rate,
                     check=lambda r: None if r in RATES else f"must be one of {RATES}, not {r}")
    period = audio.get("period", int, d.period, check=in_range(16, 8192))
    periods = audio.get("periods", int, d.periods, check=in_range(2, 16))
    channels = audio.get("channels", int, d.channels, check=in_range(1, 64))
    fmt = audio.get("format", str, d.format, check=one_of(*formats))
    in_table = top.table("inputs")
    inputs: dict[str, int] = {}
    for name in in_table.data:
        if not NAME_RE.match(name):
            in_table.error(name, "input names are lower-case letters, digits, - and _")
            continue
        ch = in_table.get(name, int, check=in_range(1, 64))
        if ch is not None:
            inputs[name] = ch
    in_table.finish()
    input_channels = audio.get("inputs", int, max(inputs.values(), default=0),
                               check=in_range(0, 64))
    audio.finish()
    for name, ch in inputs.items():
        if ch > input_channels:
            in_table.error(name, f"channel {ch} is beyond the device's {input_channels} inputs "
                                 "([audio] inputs)")

    out_table = top.table("outputs")
    outputs: dict[str, tuple[int, ...]] = {}
    for name in out_table.data:
        if not NAME_RE.match(name):
            out_table.error(name, "output names are lower-case letters, digits, - and _")
            continue
        chans = out_table.get(name, list)
        if chans is None:
            continue
        if not chans or not all(isinstance(c, int) and not isinstance(c, bool)
                                and 1 <= c <= channels for c in chans):
            out_table.error(name, f"must list device channels from 1 to {channels}, not {chans}")
            continue
        outputs[name] = tuple(chans)
    out_table.finish()

    lib = top.table("library")
    base = path.parent
    library = lib.get("path", str, None, check=a_path)
    cache = lib.get("cache", str, None, check=a_path)
    cache_mb = lib.get("cache_mb", int, d.cache_mb, check=in_range(*CACHE_MB))
    lib.finish()
    rec = top.table("recording")
    recordings = rec.get("path", str, None, check=a_path)
    record_format = rec.get("format", str, "24", check=one_of(*RECORD_FORMATS))
    latency = rec.get("latency", int, 0, check=in_range(0, 48000))
    rec.finish()
    lim = top.table("limiter")
    limiter = lim.get("on", bool, d.limiter)
    ceiling_db = lim.get("ceiling", float, d.ceiling_db, check=_ceiling)
    lim.finish()
    voice = top.table("voice")
    count_in_voice = voice.get("count_in", bool, d.count_in_voice)
    voice.finish()
    parts = top.table("parts")
    expression_db = parts.get("expression_db", float, d.expression_db,
                              check=in_range(*EXPRESSION_DB))
    soundfont = _soundfont(parts, base)
    loud = top.table("loudness")
    loudness_target = loud.get("target", float, d.loudness_target, check=in_range(*LOUDNESS_TARGET))
    loud.finish()
    box = top.table("box")
    learned = box.get("learned", str, None, check=a_path)
    box.finish()
    web = top.table("web")
    web_upload_mb = web.get("upload_limit_mb", int, d.web_upload_mb, check=in_range(1, 65536))
    tls = {key: web.get(key, str, None, check=a_path) for key in ("tls_cert", "tls_key")}
    if (tls["tls_cert"] is None) != (tls["tls_key"] is None):
        missing = "tls_key" if tls["tls_key"] is None else "tls_cert"
        web.error(missing, "TLS needs both tls_cert and tls_key")
    web.finish()
    if not out_table.data:
        outputs = default_outputs(channels)
        if "click" not in outputs:
            problems.warn(path, "outputs", "one channel has no room for the click apart from "
                          "FOH, so it is left out; `click = [1]` under [outputs] puts it there")
    # a broken control or MIDI mapping is left out; it never keeps the box from playing
    part_problems = Problems()
    controls = read_controls(Table(data, file=path, where="", problems=part_problems),
                             tuple(outputs))
    midi = read_midi(Table(data, file=path, where="", problems=part_problems), tuple(outputs))
    top.read_elsewhere(*PANEL_KEYS)
    for p in part_problems:
        problems.warn(p.file, p.field, f"{p.message}; left out")
    top.finish()
    if problems.errors:
        return None
    return Config(path=path, backend=backend, device=device, rate=rate, period=period, periods=periods,
                  channels=channels, format=fmt, outputs=outputs, controls=controls,
                  library=(base / library) if library else d.library,
                  cache=(base / cache) if cache else d.cache, cache_mb=cache_mb,
                  input_channels=input_channels, inputs=inputs,
                  recordings=(base / recordings) if recordings else d.recordings,
                  record_format=RECORD_FORMATS.get(record_format, "PCM_24"), latency=latency,
                  midi=midi, count_in_voice=count_in_voice, soundfont=soundfont,
                  limiter=limiter, ceiling_db=ceiling_db,
                  loudness_target=loudness_target,
                  learned=(base / learned) if learned else d.learned, web_upload_mb=web_upload_mb,
                  web_tls_cert=base / tls["tls_cert"] if tls["tls_cert"] else None,
                  web_tls_key=base / tls["tls_key"] if tls["tls_key"] else None,
                  expression_db=expression_db, warnings=tuple(p for p in problems if p.warning))
