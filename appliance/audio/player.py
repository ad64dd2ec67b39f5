"""A player: a show (song or setlist), its loader, the transport and the audio thread, wired
from the config. `backline play` and the daemon both use it."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..errors import BacklineError, Problem, Problems
from ..lifetime import Lifetime
from ..vocab.commands import Command
from ..vocab.state import State
from .backends import chosen
from .disk.preparer import Preparer
from .disk.show import Show, SongBank
from .engine import Engine
from .mix.limiter import for_config
from .play.transport import Transport
from .record.recorder import Recorder
from .record.takes import TakeWriter


class Player(Lifetime):
    """`with Player(...) as p:` gives a started player and stops it when the block is
    left, however it is left."""

    def __init__(self, show: Show, config: Config, *, device: str | None = None) -> None:
        """An empty show is the daemon's idle box: the audio runs (silence), nothing plays.
        The devices come from the configured backend; BacklineError when it has none."""
        self.config = config
        backend = chosen(config.backend, config.path)   # before any thread: it may refuse
        self.preparer = Preparer(config)        # a key or tempo chosen live, made ahead
        self.bank = SongBank(show, config, config.period, preparer=self.preparer)
        if show.entries:
            self.bank.load_now(0)          # the first song is ready before the audio starts
        self.transport = Transport(self.bank, rate=config.rate, channels=config.channels,
                                   block=config.period)
        device = device or config.device
        settings = dict(rate=config.rate, period=config.period, periods=config.periods,
                        fmt=config.format)
        capture = backend.capture(device, channels=config.input_channels, **settings) \
            if config.input_channels else None
        limiter = for_config(config, config.period)
        # a take lines up with what was heard: the limiter's delay, then the round trip
        self.recorder = Recorder({n: ch - 1 for n, ch in config.inputs.items()},
                                 latency=config.latency + (limiter.delay if limiter else 0))
        self.writer = TakeWriter(self.recorder, config.recordings, rate=config.rate,
                                 subtype=config.record_format)
        self.engine = Engine(self.transport,
                             backend.playback(device, channels=config.channels, **settings),
                             capture=capture, recorder=self.recorder, limiter=limiter)

    @classmethod
    def open(cls, target: Path, config: Config, problems: Problems,
             device: str | None = None) -> "Player | None":
        show = Show.open(target, problems)
        if show is not None and not show.entries:
            raise BacklineError(Problem(Path(target), "", "nothing to play"))
        return cls(show, config, device=device) if show is not None else None

    @property
    def state(self) -> State:
        return self.engine.state

    def send(self, cmd: Command) -> None:
        self.engine.send(cmd)

    def __enter__(self) -> "Player":
        self.start()
        return self

    def start(self) -> None:
        self.bank.start()
        self.writer.start()
        self.engine.start()

    def stop(self) -> None:
        """The audio stops first; the writer then closes any take with what was captured."""
        self.engine.stop()
        self.writer.stop()
        self.bank.stop()
        self.preparer.stop()
