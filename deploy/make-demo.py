#!/usr/bin/env python3
"""Make the bundled demo library (appliance/demo): a short song of synthesised
stems and a chart song, so a new box plays something at once. Run again only to change the demo."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent / "appliance" / "demo"
BPM, BARS, BEATS = 112, 12, 4
CHORDS = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]   # Am F C G
rng = np.random.default_rng(7)


def hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def track(rate: int, channels: int = 1) -> np.ndarray:
    return np.zeros((int(BARS * BEATS * 60 / BPM * rate) + rate // 2, channels), np.float32)


def at(beat: float, rate: int) -> int:
    return int(round(beat * 60 / BPM * rate))


def add(buf: np.ndarray, start: int, sound: np.ndarray) -> None:
    end = min(len(buf), start + len(sound))
    buf[start:end] += sound[: end - start].reshape(end - start, -1)


def drums(rate: int) -> np.ndarray:
    out = track(rate)
    t = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 * t + 60 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 12)
    snare_t = t[: int(0.09 * rate)]
    snare = rng.standard_normal(len(snare_t)) * np.exp(-snare_t * 45) * 0.35
    snare += np.sin(2 * np.pi * 190 * snare_t) * np.exp(-snare_t * 30) * 0.4
    for bar in range(4, BARS):                       # drums come in at the verse
        for beat in range(BEATS):
            b = bar * BEATS + beat
            if beat in (0, 2):
                add(out, at(b, rate), kick * 0.8)
            else:
                add(out, at(b, rate), snare)
    return out


def bass(rate: int) -> np.ndarray:
    out = track(rate)
    for bar in range(4, BARS):
        root = CHORDS[bar % 4][0] - 24
        for beat in range(BEATS):
            n = int(0.9 * 60 / BPM * rate)
            t = np.arange(n) / rate
            tone = np.sin(2 * np.pi * hz(root) * t) * np.minimum(1, t * 200) * np.exp(-t * 3)
            add(out, at(bar * BEATS + beat, rate), 0.5 * tone)
    return out


def keys(rate: int) -> np.ndarray:
    out = track(rate, 2)
    for bar in list(range(4)) + list(range(8, BARS)):    # intro and chorus
        n = at(BEATS, rate)
        t = np.arange(n) / rate
        env = np.minimum(1, t * 20) * np.minimum(1, (n - np.arange(n)) / (0.05 * rate))
        for i, note in enumerate(CHORDS[bar % 4]):
            tone = np.sin(2 * np.pi * hz(note) * t) * env * 0.12
            pan = (0.3 + 0.2 * i, 0.7 - 0.2 * i)
            add(out, at(bar * BEATS, rate), np.stack([tone * pan[0], tone * pan[1]], 1))
    return out


# A chart song (docs/chart.md): no stems, its drums, bass and keys made from the chords and
# synthesised as it plays; `backline chart demo-chart --midi demo.mid` writes them for a DAW.
CHART_SONG = """# The demo chart song that ships with Backline (made by deploy/make-demo.py).
title = "Backline Demo Chart"
count_in = 1
"""
CHART = """# The chords of the demo chart song (docs/chart.md).
tempo: 104
key: E minor
style: rock

[Intro]
| Em7 | Cmaj7 | G/B | D |

[Verse] x2
| Em7 . . >C | % | G/B | Am7 D7 |

[Chorus]
| C | D | Bm7b5 E7 | Am7 |
| C | D | Em7 | N.C. |

[Bridge]
style: halftime
| Am7 | D7sus4 D7 | Gmaj7 | B7 |

[Chorus] x2
"""


def main() -> None:
    song = ROOT / "songs" / "demo"
    song.mkdir(parents=True, exist_ok=True)
    sf.write(song / "drums.flac", drums(22050), 22050, subtype="PCM_16")
    sf.write(song / "bass.flac", bass(16000), 16000, subtype="PCM_16")
    sf.write(song / "keys.flac", keys(12000), 12000, subtype="PCM_16")
    chart = ROOT / "songs" / "demo-chart"
    chart.mkdir(parents=True, exist_ok=True)
    (chart / "song.toml").write_text(CHART_SONG)
    (chart / "chart.txt").write_text(CHART)
    for f in sorted(song.iterdir()) + sorted(chart.iterdir()):
        print(f"{f.parent.name}/{f.name}: {f.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main()
