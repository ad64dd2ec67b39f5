"""The live mix, the transport's mixing commands: stem levels (per output too), mutes,
solos and output masters, applied to the song playing. Output masters and the click's
level and mute outlive a song (the next one gets them); a stem's level belongs to its song.
The count-in follows the click's level and the musician's mute, though not a song's own
`[click] enabled = false` (that song still counts in).

A mixin of `Transport`: it runs in the audio thread between periods like every command.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...vocab import commands as c
from ..mix.mixer import CLICK_INPUT, COUNT_IN_INPUT

if TYPE_CHECKING:
    from ..disk.loaded import LoadedSong
    from ..disk.show import SongBank


class LiveMix:
    song: LoadedSong | None
    bank: SongBank

    def __init__(self) -> None:
        self.output_gain_db: dict[str, float] = {}   # output -> master level, for every song
        self.click_db: float | None = None           # the click's level, for every song
        self.click_sends: dict[str, float] = {}      # the click's level in each output's own mix
        self.click_muted = False                     # the musician's click mute, for every song

    def _stem(self, name: str):
        if self.song is None:
            return None
        try:
            return self.song.mixer.input(name)
        except KeyError:
            return None

    def _no_stem(self, name: str) -> str:
        names = ", ".join(i.name for i in self.song.mixer.inputs if i.name != COUNT_IN_INPUT) \
            if self.song else ""
        return f"no stem {name!r}" + (f" (this song has {names})" if names else "")

    def _carry_mix(self) -> None:
        """A song comes in: the output masters and the click as the musician left them."""
        mixer = self.song.mixer
        for name, db in self.output_gain_db.items():
            mixer.output_gain_db[name] = db
        self._carry_click()
        mixer.update(glide=False)

    def _carry_click(self) -> None:
        """A song comes in: its click (and count-in) as the musician left the last one's."""
        click = self.song.mixer.input(CLICK_INPUT)
        if self.click_db is not None:
            click.gain_db = self.click_db
        click.sends.update(self.click_sends)
        click.muted = self.click_muted or not self.song.song.click.enabled
        self._count_in_follows_click()

    def _count_in_follows_click(self) -> None:
        """The count-in at the click's level and sends, muted only by the musician."""
        mixer = self.song.mixer
        click, count_in = mixer.input(CLICK_INPUT), mixer.input(COUNT_IN_INPUT)
        count_in.gain_db = click.gain_db
        count_in.sends.clear()
        count_in.sends.update(click.sends)
        count_in.muted = self.click_muted

    def _cmd_SetGain(self, cmd: c.SetGain) -> str:
        return self._set_level(cmd.stem, cmd.output, lambda old: cmd.db)

    def _cmd_NudgeGain(self, cmd: c.NudgeGain) -> str:
        lo, hi = c.GAIN_RANGE
        return self._set_level(cmd.stem, cmd.output, lambda old: min(hi, max(lo, old + cmd.db)))

    def _set_level(self, stem: str, output: str, new) -> str:
        inp = self._stem(stem)
        if inp is None and stem == CLICK_INPUT and self.song is None:   # kept for the next song
            if output:
                self.click_sends[output] = new(self.click_sends.get(output, 0.0))
            else:
                self.click_db = new(self.click_db or 0.0)
            return ""
        if inp is None:
            return self._no_stem(stem)
        if output and output not in self.song.mixer.outputs:
            return f"no output {output!r}"
        if output:
            inp.sends[output] = new(inp.sends.get(output, 0.0))
            if inp.name == CLICK_INPUT:
                self.click_sends[output] = inp.sends[output]
        else:
            inp.gain_db = new(inp.gain_db)
            if inp.name == CLICK_INPUT:
                self.click_db = inp.gain_db
        if inp.name == CLICK_INPUT:
            self._count_in_follows_click()
        self.song.mixer.update()
        return ""

    def _cmd_Mute(self, cmd: c.Mute) -> str:
        if cmd.stem == CLICK_INPUT:
            self.click_muted = cmd.on        # this song's click and count-in, and the next's
            if self.song is None:
                return ""
        inp = self._stem(cmd.stem)
        if inp is None:
            return self._no_stem(cmd.stem)
        inp.muted = cmd.on
        if inp.name == CLICK_INPUT:
            self._count_in_follows_click()
        self.song.mixer.update()
        return ""

    def _cmd_Solo(self, cmd: c.Solo) -> str:
        inp = self._stem(cmd.stem)
        if inp is None or inp.is_click:
            return self._no_stem(cmd.stem)
        inp.solo = cmd.on
        self.song.mixer.update()
        return ""

    def _cmd_SetOutputGain(self, cmd: c.SetOutputGain) -> str:
        return self._set_output(cmd.output, lambda old: cmd.db)

    def _cmd_NudgeOutputGain(self, cmd: c.NudgeOutputGain) -> str:
        lo, hi = c.GAIN_RANGE
        return self._set_output(cmd.output, lambda old: min(hi, max(lo, old + cmd.db)))

    def _set_output(self, output: str, new) -> str:
        outputs = self.bank.config.outputs
        if output not in outputs:
            return f"no output {output!r} (outputs: {', '.join(outputs)})"
        db = new(self.output_gain_db.get(output, 0.0))
        self.output_gain_db[output] = db          # kept for every song from now on
        if self.song is not None:
            self.song.mixer.output_gain_db[output] = db
            self.song.mixer.update()
        return ""
