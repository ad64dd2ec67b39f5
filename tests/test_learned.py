"""The learned file: what MIDI learn and `backline calibrate` keep, where the hardened unit
can write it, read after the config (its values win), and never a reason not to start."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from appliance.cli.box import DAEMON_STATE
from appliance.config import LEARNED, SYSTEM_CONFIG, Config, load_config, read_config
from appliance.config.midi_map import MidiMap, MidiRule
from appliance.errors import Problems
from appliance.service.daemon import Daemon
from appliance.vocab import commands as c

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "systemd" / "backline.service"
CONFIG = '[recording]\nlatency = 100\n[[midi.map]]\ncc = 80\nvalue = 127\ncommand = "next-song"\n'


def _unit(key: str) -> list[str]:
    """Every value of `key` in the unit's [Service] section, split on spaces."""
    values: list[str] = []
    for line in UNIT.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == key:
            values += value.split()
    return values


def _writable(path: Path) -> bool:
    """Whether the unit's processes may write `path` (ProtectSystem=strict: only under
    ReadWritePaths, a leading - meaning the folder may be missing)."""
    return any(path.is_relative_to(p.lstrip("-")) for p in _unit("ReadWritePaths"))


def test_the_box_writes_what_it_learns_where_the_unit_lets_it_and_the_config_stays_read_only():
    assert _unit("ProtectSystem") == ["strict"]
    assert _writable(LEARNED) and not _writable(SYSTEM_CONFIG)
    assert LEARNED.parent == Path(DAEMON_STATE).parent       # beside the daemon's saved place
    assert Config().learned == LEARNED
    for profile in sorted((REPO / "hw" / "profiles").glob("*.toml")):   # install.sh's configs
        config = read_config(profile, Problems())
        assert config is not None and config.learned == LEARNED, profile.name


def _files(tmp_path: Path, learned: str | bytes) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG + f'[box]\nlearned = "learned.toml"\n')    # beside the config
    if isinstance(learned, bytes):
        (tmp_path / "learned.toml").write_bytes(learned)
    else:
        (tmp_path / "learned.toml").write_text(learned)
    return cfg


def _cc(config: Config, number: int, value: int) -> list[c.Command]:
    import mido
    return MidiMap(config.midi).commands(mido.Message("control_change", control=number,
                                                      value=value))


def test_the_learned_values_win_over_the_config(tmp_path):
    cfg = _files(tmp_path, '[[midi.map]]\ncc = 80\nvalue = 127\ncommand = "previous-song"\n'
                           '\n[recording]\nlatency = 300\n')
    config = load_config(cfg)
    assert config.learned == tmp_path / "learned.toml"
    assert config.latency == 300 and config.warnings == ()
    assert _cc(config, 80, 127) == [c.PreviousSong()]


@pytest.mark.parametrize("learned, field, says", [
    ("[recording]\nlatency = nan\n", "recording.latency", "must be"),
    ("[recording]\nlatency = inf\n", "recording.latency", "must be"),
    ("[recording]\nlatency = -5\n", "recording.latency", ""),
    ("[recording]\nlatency = 300\n[[midi.map]]\ncc = 81\ncommand = \"fly\"\n",
     "midi.map[1].command", ""),
    ("[recording]\nlatency = 300\nlatnecy = 1\n", "recording.latnecy", "unknown key"),
    ("[recording\nlatency = 300\n", "line 1", "TOML syntax"),
    (b"[recording]\nlatency = 300 # \xff\n", "", "cannot read"),
])
def test_a_broken_learned_file_is_a_warning_and_the_box_starts_with_the_config(
        tmp_path, learned, field, says):
    cfg = _files(tmp_path, learned)
    config = load_config(cfg)
    assert config.latency == 100 and _cc(config, 80, 127) == [c.NextSong()]
    warning, = config.warnings
    text = str(warning)
    assert warning.warning and warning.file == tmp_path / "learned.toml"
    assert warning.field == field and says in text, text
    assert "the learned file is left out, the config's own values are used" in text


def test_no_learned_file_is_the_config_alone(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG + f'[box]\nlearned = "{tmp_path / "none.toml"}"\n')
    config = load_config(cfg)
    assert config.latency == 100 and config.warnings == ()


def test_midi_learn_keeps_the_rule_in_the_learned_file_and_leaves_the_config(tmp_path, caplog):
    cfg = _files(tmp_path, "[recording]\nlatency = 300\n")
    before = cfg.read_text()
    daemon = Daemon(load_config(cfg), state_path=tmp_path / "state.json")
    caplog.set_level(logging.INFO, logger="backline")
    daemon._learned(MidiRule("cc", 80, 127, command=c.Stop()), "stop")
    daemon._learned(MidiRule("note", 60, command=c.TogglePlay()), "toggle-play")
    assert cfg.read_text() == before
    assert f"MIDI learn: cc 80 -> stop (kept in {tmp_path / 'learned.toml'})" in caplog.text
    again = load_config(cfg)                                  # after a restart
    assert again.latency == 300 and again.warnings == ()
    assert _cc(again, 80, 127) == [c.Stop()]
    assert MidiMap(again.midi).trigger_of(c.TogglePlay()) == "note 60"
    assert not list(tmp_path.glob(".*.tmp"))                  # written whole, nothing left over


def test_midi_learn_that_cannot_be_kept_is_said_and_holds_until_restart(tmp_path, caplog):
    config = Config(learned=tmp_path / "no-such-folder" / "learned.toml")
    daemon = Daemon(config, state_path=tmp_path / "state.json")
    daemon._learned(MidiRule("cc", 80, 127, command=c.Stop()), "stop")
    assert "MIDI learn: cc 80 -> stop, until the box restarts" in caplog.text
