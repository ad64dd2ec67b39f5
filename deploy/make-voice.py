#!/usr/bin/env python3
"""Make the built-in voice (appliance/voice/*.flac): every word the box says, spoken by
espeak-ng (Debian's `espeak-ng` package, needed only to run this, never on the box), then
trimmed and levelled by the same code that shapes a user's recorded words. Run again only
to change the voice; the FLACs are committed.

Each word is made by exactly:
    espeak-ng -v en-us -s 200 -p 45 -a 150 -w <tmp>.wav "<word>"
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from appliance.audio.disk.voice import BUILT_IN_DIR, shape  # noqa: E402
from appliance.timeline.cues import NUMBERS, VOCABULARY, word_key  # noqa: E402

ESPEAK = ["espeak-ng", "-v", "en-us", "-s", "200", "-p", "45", "-a", "150"]
SPOKEN = {"Acapella": "a cappella"}      # the word as espeak-ng says it best


def main() -> None:
    BUILT_IN_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for word in NUMBERS + VOCABULARY:
            wav = Path(tmp) / "word.wav"
            subprocess.run([*ESPEAK, "-w", str(wav), SPOKEN.get(word, word)], check=True)
            x, rate = sf.read(str(wav), dtype="float32")
            y = shape(x, rate)
            out = BUILT_IN_DIR / f"{word_key(word)}.flac"
            sf.write(str(out), y, rate, subtype="PCM_16", format="FLAC")
            print(f"{out.name}: {len(y) / rate:.2f} s")


if __name__ == "__main__":
    main()
