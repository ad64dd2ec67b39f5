"""One FluidSynth synthesiser, rendered float32 straight into Backline's own buffers.

pyfluidsynth is the binding (it finds and opens Debian's libfluidsynth3); its `get_samples`
gives int16 only, so rendering calls `fluid_synth_nwrite_float` through ctypes on the library
pyfluidsynth opened, one stereo pair of rows per *audio group* (one group per part), into
rows of a preallocated planar buffer.

Timing: FluidSynth renders in blocks of `BLOCK` (64) frames and takes a note sent between two
renders at the start of its next block. `silence` starts that block grid at a context's
first frame, so a note sent when the frames before it are rendered sounds at the first block
boundary at or after its frame: 0 to 63 frames late (1.3 ms at 48 kHz; tests/test_synth.py
finds it exactly there), the same however the frames are asked for.

Reverb and chorus are off: the parts go to the desk dry, like stems, for the sound engineer
to place in the room; and a reverb's tail could not follow a jump (a context starts silent). FluidSynth's own log goes to `last_error` (the box's log stays clean; the
reason still reaches the musician's message).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections import deque
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_void_p
from pathlib import Path

import numpy as np

from .errors import SynthError

BLOCK = 64                 # FluidSynth's block (FLUID_BUFSIZE)
DRUM_TYPE = 1              # CHANNEL_TYPE_DRUM
DRUM_BANK = 128            # the SoundFont bank of drum kits
_LOG_LEVELS = range(5)     # FLUID_PANIC .. FLUID_DBG
_ERROR_LEVELS = (0, 1)     # panic, error: what a musician's message quotes
_GLIB_ALL_LEVELS = 0xFF    # G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION
_FloatP = POINTER(c_float)
_LogFunction = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)
_GLogFunction = ctypes.CFUNCTYPE(None, c_char_p, c_int, c_char_p, c_void_p)


def _library():
    """pyfluidsynth's loaded libfluidsynth, or SynthError saying how to install it."""
    try:
        import fluidsynth
    except ImportError as exc:      # pyfluidsynth raises it when the library is not found
        raise SynthError("libfluidsynth", f"FluidSynth cannot be loaded ({exc}): "
                         "apt install libfluidsynth3") from None
    except OSError as exc:          # found, but not loadable (wrong architecture, damaged)
        raise SynthError("libfluidsynth", f"FluidSynth cannot be loaded ({exc}): "
                         "apt install --reinstall libfluidsynth3") from None
    return fluidsynth._fl


_SIGNATURES = {
    "new_fluid_settings": (c_void_p, []),
    "delete_fluid_settings": (None, [c_void_p]),
    "fluid_settings_setint": (c_int, [c_void_p, c_char_p, c_int]),
    "fluid_settings_setnum": (c_int, [c_void_p, c_char_p, c_double]),
    "new_fluid_synth": (c_void_p, [c_void_p]),
    "delete_fluid_synth": (None, [c_void_p]),
    "fluid_synth_sfload": (c_int, [c_void_p, c_char_p, c_int]),
    "fluid_synth_program_select": (c_int, [c_void_p, c_int, c_int, c_int, c_int]),
    "fluid_synth_set_channel_type": (c_int, [c_void_p, c_int, c_int]),
    "fluid_synth_noteon": (c_int, [c_void_p, c_int, c_int, c_int]),
    "fluid_synth_noteoff": (c_int, [c_void_p, c_int, c_int]),
    "fluid_synth_all_sounds_off": (c_int, [c_void_p, c_int]),
    "fluid_synth_get_active_voice_count": (c_int, [c_void_p]),
    "fluid_synth_nwrite_float": (c_int, [c_void_p, c_int, POINTER(_FloatP), POINTER(_FloatP),
                                         POINTER(_FloatP), POINTER(_FloatP)]),
    "fluid_set_log_function": (c_void_p, [c_int, _LogFunction, c_void_p]),
}

_lib = None
_lib_lock = threading.Lock()
last_error: deque[str] = deque(maxlen=4)     # FluidSynth's error lines since the last call


@_LogFunction
def _log(level: int, message: bytes, _data) -> None:
    if level in _ERROR_LEVELS:
        last_error.append(message.decode("utf-8", "replace").strip())


@_GLogFunction
def _quiet(_domain, _level, _message, _data) -> None:
    """GLib's messages (libinstpatch's, when a damaged file is tried as DLS) are dropped:
    FluidSynth's own error says what the musician needs."""


def _quiet_glib() -> None:
    """Only GLib's messages without a domain (libinstpatch's): others keep their handlers."""
    name = ctypes.util.find_library("glib-2.0")
    if name:
        glib = ctypes.CDLL(name)
        glib.g_log_set_handler.restype = ctypes.c_uint
        glib.g_log_set_handler.argtypes = [c_char_p, c_int, _GLogFunction, c_void_p]
        glib.g_log_set_handler(None, _GLIB_ALL_LEVELS, _quiet, None)


def library():
    """libfluidsynth with the signatures Backline uses declared, and its log captured."""
    global _lib
    with _lib_lock:
        if _lib is None:
            lib = _library()
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = restype, argtypes
            for level in _LOG_LEVELS:
                lib.fluid_set_log_function(level, _log, None)
            _quiet_glib()
            _lib = lib
    return _lib


def fluid_reason(default: str) -> str:
    """FluidSynth's own words for what failed since `last_error` was cleared (its first
    error, the most precise), else `default`."""
    return last_error[0] if last_error else default


class Fluid:
    """A synthesiser with one stereo audio group per part, rendering into planar rows."""

    def __init__(self, rate: int, soundfont: Path, *, groups: int, polyphony: int,
                 gain: float) -> None:
        self._lib = lib = library()
        self.groups, self.soundfont = groups, soundfont
        self._settings = lib.new_fluid_settings()
        for name, value in (("synth.audio-groups", groups), ("synth.audio-channels", groups),
                            ("synth.reverb.active", 0), ("synth.chorus.active", 0),
                            ("synth.dynamic-sample-loading", 1), ("synth.cpu-cores", 1),
                            ("synth.polyphony", polyphony)):
            lib.fluid_settings_setint(self._settings, name.encode(), value)
        for name, value in (("synth.sample-rate", rate), ("synth.gain", gain)):
            lib.fluid_settings_setnum(self._settings, name.encode(), float(value))
        self._synth = lib.new_fluid_synth(self._settings)
        if not self._synth:
            lib.delete_fluid_settings(self._settings)
            raise SynthError(soundfont, f"FluidSynth cannot start: {fluid_reason('no reason given')}")
        last_error.clear()
        self._sfont = lib.fluid_synth_sfload(self._synth, str(soundfont).encode(), 0)
        if self._sfont < 0:
            reason = fluid_reason("FluidSynth cannot load it")
            self.close()
            raise SynthError(soundfont, f"is not a usable SoundFont (.sf2): {reason}")
        self._delivered = 0          # frames rendered, for the block grid
        self._left = (_FloatP * groups)()
        self._right = (_FloatP * groups)()

    def select(self, channel: int, program: int, *, drums: bool = False) -> str | None:
        """Play `program` (a drum kit when `drums`) on `channel`; None, or why it cannot."""
        lib = self._lib
        if drums:
            lib.fluid_synth_set_channel_type(self._synth, channel, DRUM_TYPE)
        bank = DRUM_BANK if drums else 0
        if lib.fluid_synth_program_select(self._synth, channel, self._sfont, bank, program) != 0:
            last_error.clear()
            kind = "drum kit" if drums else "program"
            return f"{self.soundfont.name} has no {kind} {program} (bank {bank})"
        return None

    def note_on(self, channel: int, key: int, velocity: int) -> None:
        self._lib.fluid_synth_noteon(self._synth, channel, key, velocity)

    def note_off(self, channel: int, key: int) -> None:
        self._lib.fluid_synth_noteoff(self._synth, channel, key)

    @property
    def voices(self) -> int:
        return self._lib.fluid_synth_get_active_voice_count(self._synth)

    def render(self, rows: np.ndarray, start: int, n: int) -> None:
        """Frames [start, start + n) of `rows` ((2 * groups, width) float32, C order): group g
        in rows 2g (left) and 2g + 1 (right). RuntimeError if FluidSynth fails."""
        left, right = self._left, self._right
        for g in range(self.groups):
            left[g] = rows[2 * g, start:].ctypes.data_as(_FloatP)
            right[g] = rows[2 * g + 1, start:].ctypes.data_as(_FloatP)
        if self._lib.fluid_synth_nwrite_float(self._synth, n, left, right, None, None) != 0:
            raise RuntimeError(fluid_reason("FluidSynth could not render"))
        self._delivered += n

    def silence(self, scratch: np.ndarray) -> None:
        """All sounds off at once, and the block grid started afresh: what is rendered next
        begins a block (`scratch`: (2 * groups, >= BLOCK) float32 for the discarded rest).
        Not quite a new synth: FluidSynth ramps a voice's level over its first block from
        the last level of the voice slot it reuses (fluid_rvoice_mixer.c), so a note's
        first 64 frames may differ slightly from a fresh synth's."""
        self._lib.fluid_synth_all_sounds_off(self._synth, -1)
        rest = -self._delivered % BLOCK
        if rest:
            self.render(scratch, 0, rest)


    def close(self) -> None:
        if self._synth:
            self._lib.delete_fluid_synth(self._synth)
            self._lib.delete_fluid_settings(self._settings)
            self._synth = None
