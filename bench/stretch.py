#!/usr/bin/env python3
"""The key/tempo engines tried for issue 16, side by side: speed, memory, quality.

    .venv/bin/python bench/stretch.py [--seconds 30] [--memory-minutes 5]

Each engine found is run on the same signals; a missing one is named with how to get it.
  speed      a stereo 48 kHz stem (tones + drum-like noise bursts), -2 semitones at tempo 0.9,
             as a multiple of real time (wall clock, on this machine as it is loaded)
  memory     peak RSS of a fresh process stretching a 5-minute stereo stem from a file
             (itself and its children: the Rubber Band program is a child)
  -2 / +12   the FFT peak of a 440 Hz sine (want 392.0 / 880.0 Hz, +-0.5 %)
  len 0.9    output frames minus round(frames / 0.9) (want 0; the brief allows +-128)
  rise/at    a click train at tempo 0.9: median 10-90 % rise of each click's envelope (ms;
             the source's is 0.5 ms: more is a smeared hit), and the median and the largest
             offset of each click's envelope peak from its scaled frame (ms; Rubber Band
             stretches around transients, so hits move a little)
  F1 +5/-5   a synthetic vowel /a/ (120 Hz pulses, formants 700/1220/2600 Hz) at +-5
             semitones: the first formant of the cepstrally smoothed spectrum (Hz; 700 kept,
             935 / 524 moved with the pitch)
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import peak_rss_mb  # noqa: E402

from appliance.audio.disk import stretch  # noqa: E402

RATE = 48000
Engine = Callable[[np.ndarray, float, float], np.ndarray]   # (frames, ch) float32 -> same


def pedalboard_engine(high_quality: bool, transient_mode: str) -> Engine | str:
    try:
        import pedalboard
    except ImportError:
        return "pip install pedalboard"

    def run(x: np.ndarray, transpose: float, tempo: float) -> np.ndarray:
        y = pedalboard.time_stretch(np.ascontiguousarray(x.T), RATE, stretch_factor=tempo,
                                    pitch_shift_in_semitones=transpose,
                                    high_quality=high_quality, transient_mode=transient_mode)
        return y.T
    return run


def pylibrb_engine(finer: bool) -> Engine | str:
    try:
        from pylibrb import Option, RubberBandStretcher
    except ImportError:
        return "pip install pylibrb (x86-64 wheels only: none for aarch64)"

    def run(x: np.ndarray, transpose: float, tempo: float) -> np.ndarray:
        """Offline mode, streamed: a study pass, then process and retrieve in blocks."""
        opts = (Option.PROCESS_OFFLINE | Option.FORMANT_PRESERVED | Option.CHANNELS_TOGETHER
                | (Option.ENGINE_FINER if finer else Option.ENGINE_FASTER))
        s = RubberBandStretcher(RATE, x.shape[1], opts, initial_time_ratio=1 / tempo,
                                initial_pitch_scale=2 ** (transpose / 12))
        s.set_expected_input_duration(len(x))
        s.set_max_process_size(16384)
        blocks = range(0, len(x), 16384)
        for i in blocks:
            s.study(np.ascontiguousarray(x[i:i + 16384].T), final=i + 16384 >= len(x))
        out = []
        for i in blocks:
            s.process(np.ascontiguousarray(x[i:i + 16384].T), final=i + 16384 >= len(x))
            out.append(s.retrieve_available())
        while s.available() > 0:
            out.append(s.retrieve_available())
        return np.concatenate(out, axis=1).T
    return run


def file_engine(make: Callable[[Path, Path, float, float], None]) -> Engine:
    """An engine that works file to file, run on temporary files."""
    def run(x: np.ndarray, transpose: float, tempo: float) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="bench-stretch-") as tmp:
            src, dst = Path(tmp, "in.wav"), Path(tmp, "out.wav")
            sf.write(str(src), x, RATE, subtype="FLOAT")
            make(src, dst, transpose, tempo)
            return sf.read(str(dst), dtype="float32", always_2d=True)[0]
    return run


def cli_r3(src: Path, dst: Path, transpose: float, tempo: float) -> None:
    subprocess.run(["rubberband", "-3", "-q", "-F", "--ignore-clipping", f"--time={1 / tempo!r}",
                    f"--pitch={transpose!r}", str(src), str(dst)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def chosen(src: Path, dst: Path, transpose: float, tempo: float) -> None:
    stretch.stretch_file(src, dst, transpose=transpose, tempo=tempo)


def engines() -> dict[str, Engine | str]:
    try:
        stretch.engine_version()
        cli = True
    except stretch.StretchError:
        cli = False
    return {
        "stretch_file (rubberband R2 c4)": file_engine(chosen) if cli else stretch.INSTALL,
        "rubberband CLI R3 (-3)": file_engine(cli_r3) if cli else stretch.INSTALL,
        "pedalboard R3 (hq)": pedalboard_engine(True, "crisp"),
        "pedalboard R2 crisp": pedalboard_engine(False, "crisp"),
        "pedalboard R2 mixed": pedalboard_engine(False, "mixed"),
        "pedalboard R2 smooth": pedalboard_engine(False, "smooth"),
        "pylibrb R2 offline": pylibrb_engine(False),
        "pylibrb R3 offline": pylibrb_engine(True),
    }


def stem(seconds: float) -> np.ndarray:
    """Music-like: two tones and a noise burst every half second, stereo."""
    t = np.arange(int(seconds * RATE)) / RATE
    mono = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 659 * t)
    rng = np.random.default_rng(0)
    for onset in range(0, len(t) - 2400, RATE // 2):
        mono[onset:onset + 2400] += 0.3 * rng.standard_normal(2400) * np.exp(-np.arange(2400) / 400)
    return np.stack([mono, 0.8 * mono], axis=1).astype(np.float32)


def peak_hz(x: np.ndarray) -> float:
    mid = x[len(x) // 4: 3 * len(x) // 4, 0]
    spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid)), n=1 << 20))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1:k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * RATE / (1 << 20)


def sine(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.repeat((0.5 * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)


def clicks() -> tuple[np.ndarray, list[int]]:
    x = np.zeros((4 * RATE, 2), np.float32)
    rng = np.random.default_rng(2)
    onsets = list(range(RATE // 4, 4 * RATE - RATE // 4, RATE // 2))
    for o in onsets:
        x[o:o + 480, :] += (0.5 * rng.standard_normal(480) * np.exp(-np.arange(480) / 96))[:, None]
    return x, onsets


def transient_figures(y: np.ndarray, onsets: list[int], tempo: float,
                      source: np.ndarray) -> tuple[float, float, float]:
    """Median rise (ms), median and largest peak offset (ms) against the source's own peaks."""
    def env(x: np.ndarray) -> np.ndarray:
        return np.convolve(np.abs(x[:, 0]), np.ones(24) / 24, mode="same")    # 0.5 ms
    e, e0 = env(y), env(source)
    rises, offsets = [], []
    w = int(0.05 * RATE)
    for o in onsets:
        at = round(o / tempo)
        seg = e[at - w:at + w]
        top = seg.max()
        rises.append((np.argmax(seg >= 0.9 * top) - np.argmax(seg >= 0.1 * top)) / RATE * 1000)
        want = (o + np.argmax(e0[o:o + w])) / tempo
        offsets.append((at - w + np.argmax(seg) - want) / RATE * 1000)
    return float(np.median(rises)), float(np.median(offsets)), float(max(offsets, key=abs))


def vowel(seconds: float) -> np.ndarray:
    n = int(seconds * RATE)
    x = np.zeros(n)
    x[:: RATE // 120] = 1.0
    for f, bw in ((700, 90), (1220, 110), (2600, 160)):
        r = np.exp(-np.pi * bw / RATE)
        a1, a2 = -2 * r * np.cos(2 * np.pi * f / RATE), r * r
        y = np.zeros(n)
        for i in range(n):      # a two-pole resonator (short signal; speed does not matter)
            y[i] = x[i] - a1 * y[i - 1] - a2 * y[i - 2]
        x = y
    x = x / np.max(np.abs(x)) * 0.5
    return np.repeat(x[:, None], 2, axis=1).astype(np.float32)


def first_formant(y: np.ndarray) -> float:
    """The strongest peak from 400 to 1100 Hz of the cepstrally smoothed log spectrum."""
    seg = y[len(y) // 4: 3 * len(y) // 4, 0]
    n = 8192
    frames = [seg[i:i + n] * np.hanning(n) for i in range(0, len(seg) - n, n // 2)]
    logspec = np.log(np.mean([np.abs(np.fft.rfft(f)) ** 2 for f in frames], axis=0) + 1e-12)
    cep = np.fft.irfft(logspec)
    lifter = int(RATE / 400)      # keep the envelope (detail over 400 Hz), drop the harmonics
    cep[lifter:-lifter] = 0
    env = np.fft.rfft(cep).real
    freqs = np.fft.rfftfreq(2 * (len(logspec) - 1), 1 / RATE)
    band = (freqs >= 400) & (freqs <= 1100)
    return float(freqs[band][np.argmax(env[band])])


def memory(name: str, minutes: float) -> str:
    """Peak RSS a fresh process adds stretching a `minutes` stem from a file (and its child's)."""
    out = subprocess.run([sys.executable, __file__, "--memory-of", name, "--memory-minutes", str(minutes)],
                         capture_output=True, text=True)
    return out.stdout.strip() or f"failed: {out.stderr.strip()[-200:]}"


def memory_child(name: str, minutes: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-stretch-") as tmp:
        src, dst = Path(tmp, "in.wav"), Path(tmp, "out.wav")
        block = stem(10.0)
        with sf.SoundFile(str(src), "w", RATE, 2, subtype="PCM_24") as f:
            for _ in range(int(minutes * 6)):
                f.write(block)
        base = peak_rss_mb()
        engine = engines()[name]
        if name.startswith("stretch_file"):
            stretch.stretch_file(src, dst, transpose=-2, tempo=0.9)
        elif name.startswith("rubberband CLI"):
            cli_r3(src, dst, -2, 0.9)
        else:       # an in-memory engine: the stem is read whole, as it would have to be
            x = sf.read(str(src), dtype="float32", always_2d=True)[0]
            sf.write(str(dst), engine(x, -2, 0.9), RATE, subtype="PCM_24")
        added = peak_rss_mb() - base
        if name.startswith(("stretch_file", "rubberband CLI")):   # (a child forked from us counts our size until exec)
            child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"+{added:.0f} MB in Python, <= {child:.0f} MB in the rubberband child")
        else:
            print(f"+{added:.0f} MB in Python")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--memory-minutes", type=float, default=5.0)
    ap.add_argument("--memory-of", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_of:
        memory_child(args.memory_of, args.memory_minutes)
        return
    music, click_train, voice = stem(args.seconds), clicks(), vowel(2.0)
    print(f"original vowel F1 {first_formant(voice):.0f} Hz")
    for name, engine in engines().items():
        if isinstance(engine, str):
            print(f"{name:32s} missing: {engine}")
            continue
        t0 = time.perf_counter()
        engine(music, -2, 0.9)
        speed = args.seconds / (time.perf_counter() - t0)
        lo, hi = peak_hz(engine(sine(1.5), -2, 1.0)), peak_hz(engine(sine(1.5), 12, 1.0))
        length = len(engine(sine(1.0), 0, 0.9)) - round(RATE / 0.9)
        rise, at, worst = transient_figures(engine(click_train[0], 0, 0.9), click_train[1], 0.9,
                                            click_train[0])
        up, down = (first_formant(engine(voice, s, 1.0)) for s in (5, -5))
        print(f"{name:32s} {speed:5.1f}x  -2: {lo:6.1f} Hz  +12: {hi:6.1f} Hz  len 0.9: {length:+d}  "
              f"rise {rise:.1f} ms at {at:+.1f} (worst {worst:+.1f}) ms  F1 +5: {up:.0f} -5: {down:.0f} Hz  "
              f"memory 5 min: {memory(name, args.memory_minutes)}", flush=True)


if __name__ == "__main__":
    main()
