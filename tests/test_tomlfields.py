"""Every number a musician writes is read through tomlfields: NaN and ±inf are refused there."""
from __future__ import annotations

import pytest

from appliance.config import read_config
from appliance.errors import Problems


@pytest.mark.parametrize("toml, message", [
    ("[controls]\ndb_per_step = nan\n", "controls.db_per_step: must be a finite number, not nan"),
    ("[controls]\ndb_per_step = inf\n", "controls.db_per_step: must be a finite number, not inf"),
    ("[display]\nfps = nan\n", "display.fps: must be a finite number, not nan"),
    ("[display]\nfps = -inf\n", "display.fps: must be a finite number, not -inf"),
    # A whole number too big for a float, where a float is read: refused, not an OverflowError.
    ("[display]\nfps = 1" + "0" * 400 + "\n", "display.fps: must be a finite number, not inf"),
])
def test_config_numbers_that_are_not_numbers_name_file_and_field(tmp_path, toml, message):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    problems = Problems()
    config = read_config(path, problems)
    # A bad control setting is a warning and its default is used: the box still plays.
    assert [str(p) for p in problems] == [f"{path}: warning: {message}; left out"]
    assert config.controls.db_per_step == 1.0 and config.controls.display.fps == 10.0
