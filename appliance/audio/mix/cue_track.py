"""The voice on the `cue` output: words started at their song frames, like the click, and
each played whole, in playing time: a jump, a vamp's return or the song starting after its
count-in never cuts a word that has begun.

A word starts only when the song plays through its first frame: after a jump, a cue whose
start lies before the landing frame is not heard (never half a word). While a vamp or a
pending jump is about to move the song (`follow`), the word of where it goes is said
before it (a vamp says its section again before each pass) and the word of the section it
will not reach is not.

Audio thread: `read_into` copies from the words' buffers (made at load) into the block; the
lists are made at load; a count-in is read from its own beats (tuples the loader made).
"""
from __future__ import annotations

import bisect
from typing import Sequence

import numpy as np

from ...timeline.cues import Cue, count_in_words

_NOWHERE = -(1 << 62)
VOICES = 4          # words sounding at once; one more is not started, none is cut


class CueTrack:
    """A mono source of the song's cues (song frames; the count-in's before its start)."""

    channels = 1

    def __init__(self, words: dict[str, np.ndarray], cues: Sequence[Cue],
                 count_in: bool) -> None:
        self.words = words                    # kept: the same words at another tempo
        self._keys = sorted(words)
        self.sounds = [words[k] for k in self._keys]
        self._index = {k: i for i, k in enumerate(self._keys)}
        self.frames = [c.frame for c in cues]
        self._words = [self._index[c.word] for c in cues]
        self._targets = [c.target for c in cues]
        self._lead = {c.target: (c.target - c.frame, self._index[c.word]) for c in cues}
        said = [self._index.get(w, -1) if w else -1 for w in count_in_words(range(1, 13))]
        self.counts = count_in and any(i >= 0 for i in said)
        self._number_word = [-1] + said if self.counts else [-1] * 13   # beat number -> word
        self._ci_frames: tuple[int, ...] = ()  # the count-in's beats, from its first frame
        self._ci_numbers: tuple[int, ...] = ()
        self._ci_base = 0                      # the song frame of its first frame
        self._skip = self._extra = -1         # `follow`: a target left out, a cue put in
        self._extra_word = 0
        self._v_word = [-1] * VOICES
        self._v_pos = [0] * VOICES            # frames played of it (negative: not yet)
        self.reset()
        self.count_in_source = _CountInVoice(self)

    def reset(self) -> None:
        """Silence: the song stops, or plays from somewhere new."""
        for v in range(VOICES):
            self._v_word[v] = -1
        self._next = _NOWHERE          # the next read finds its cursors
        self._cursor = self._ci_cursor = 0

    def count_in(self, start: int, length: int, frames: tuple[int, ...],
                 beats: tuple[int, ...]) -> None:
        """Say the count-in of `length` frames before song frame `start`: its beats' `frames`
        (from the count-in's first frame) and their 1-based `beats` in the bar. Kept, not
        copied: the audio thread calls it at a Play."""
        self._ci_frames, self._ci_numbers, self._ci_base = frames, beats, start - length

    def follow(self, loop, pending) -> None:
        """What moves the song next (the transport's loop and pending command): its
        target's word said before it, the word of the place it skips left out."""
        at = to = -1
        if pending is not None and pending.kind == "jump":
            at, to = pending.frame, pending.to
        elif loop is not None:
            at, to = loop.end, loop.start
        self._skip = at
        self._extra = -1
        lead = self._lead.get(to)
        if lead is not None:
            self._extra, self._extra_word = at - lead[0], lead[1]

    def read_into(self, start: int, out: np.ndarray) -> None:
        """Song frames [start, start + n) of the voice into `out` (1 × n)."""
        self._read(start, out, False)

    def _read(self, start: int, out: np.ndarray, counting: bool) -> None:
        col = out[0]
        col.fill(0.0)
        n = col.shape[0]
        end = start + n
        if start != self._next:
            self._cursor = bisect.bisect_left(self.frames, start)
            self._ci_cursor = bisect.bisect_left(self._ci_frames, start - self._ci_base)
        if counting:
            self._ci_cursor = self._count_due(self._ci_cursor, start - self._ci_base,
                                              end - self._ci_base)
        else:
            self._cursor = self._start_due(self.frames, self._words, self._targets,
                                           self._cursor, start, end)
            if start <= self._extra < end:
                self._voice(self._extra_word, self._extra - start)
        self._next = end
        for v in range(VOICES):
            w = self._v_word[v]
            if w < 0:
                continue
            sound = self.sounds[w]
            p = self._v_pos[v]
            a = max(0, -p)                      # where in the block it sounds from
            b = min(n, len(sound) - p)
            if b > a:
                col[a:b] += sound[p + a: p + b]
            self._v_pos[v] = p + n
            if p + n >= len(sound):
                self._v_word[v] = -1

    def _start_due(self, frames: list[int], words: list[int], targets: list[int],
                   i: int, start: int, end: int) -> int:
        """Start the cues from `i` whose first frame is in [start, end); the next index."""
        while i < len(frames) and frames[i] < end:
            f = frames[i]
            if f >= start and targets[i] != self._skip:
                self._voice(words[i], f - start)
            i += 1
        return i

    def _count_due(self, i: int, start: int, end: int) -> int:
        """Start the count-in's numbers from beat `i` whose frame (from the count-in's first)
        is in [start, end); the next beat."""
        frames, numbers = self._ci_frames, self._ci_numbers
        while i < len(frames) and frames[i] < end:
            f = frames[i]
            b = numbers[i]
            word = self._number_word[b] if b < len(self._number_word) else -1
            if f >= start and word >= 0:
                self._voice(word, f - start)
            i += 1
        return i

    def _voice(self, word: int, offset: int) -> None:
        """Start `word` `offset` frames into the block, in a free voice (else not at all)."""
        for v in range(VOICES):
            if self._v_word[v] < 0:
                self._v_word[v], self._v_pos[v] = word, -offset
                return


class _CountInVoice:
    """The track as the count-in reads it: its numbers only, at song frames before its
    start, in the same voices (the last number rings on into the song)."""

    channels = 1

    def __init__(self, track: CueTrack) -> None:
        self.track = track

    def read_into(self, start: int, out: np.ndarray) -> None:
        self.track._read(start, out, True)
