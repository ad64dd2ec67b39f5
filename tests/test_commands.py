"""Commands check themselves when made: a bad mapping fails where it is written."""
import pytest

from appliance.vocab import commands as c


@pytest.mark.parametrize("make, error, message", [
    (lambda: c.Seek(0), ValueError, "Seek.bar must be 1 or more, not 0"),
    (lambda: c.Seek("3"), TypeError, "Seek.bar must be int, not '3'"),
    (lambda: c.Vamp(65), ValueError, "Vamp.bars must be 0 to 64, not 65"),
    (lambda: c.SelectSong(0), ValueError, "SelectSong.index must be 1 or more, not 0"),
    (lambda: c.SetGain("bass", 20), ValueError, "SetGain.db must be -120 to 12, not 20"),
    (lambda: c.SetGain("bass", "loud"), TypeError, "SetGain.db must be a number, not 'loud'"),
    (lambda: c.Mute("bass", 1), TypeError, "Mute.on must be bool, not 1"),
    (lambda: c.Stop(at="bar"), TypeError, "Stop.at must be an At, not 'bar'"),
    (lambda: c.Jump(True), TypeError, "Jump.section must be a name or an index, not True"),
    (lambda: c.Jump(0), ValueError, "Jump.section index must be 1 or more, not 0"),
    (lambda: c.SetGain("bass", float("nan")), ValueError, "SetGain.db must be a finite number, "
                                                          "not nan"),
    (lambda: c.NudgeGain("click", float("-inf")), ValueError, "NudgeGain.db must be a finite "
                                                              "number, not -inf"),
    (lambda: c.NudgeOutputGain("foh", float("nan")), ValueError, "NudgeOutputGain.db must be"),
])
def test_bad_commands(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_good_commands_are_values():
    assert c.Jump("Chorus") == c.Jump("Chorus", at=c.At.BAR)
    assert c.SetGain("click", -6).db == -6
    assert {c.Play(), c.Play()} == {c.Play()}
