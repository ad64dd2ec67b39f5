"""The transport's parts on their own: the one Fade every level change uses, and the
moment readers get, by field name."""
from __future__ import annotations

import numpy as np

from appliance.audio.play.fade import Fade
from appliance.audio.play.moment import Moment
from appliance.audio.disk.show import Show
from appliance.vocab import commands as c
from appliance.vocab.state import TransportState

from transport_rig import BAR, close, position_song, rig, run


def test_a_fade_ramps_linearly_over_periods_and_ends_idle():
    fade = Fade(block=4)
    fade.start(6)
    assert fade and fade.left == 6
    assert np.allclose(fade.gains(4, rising=True), [1 / 6, 2 / 6, 3 / 6, 4 / 6])
    assert not fade.advance(4) and fade.left == 2
    assert np.allclose(fade.gains(2, rising=False), [1 / 6, 0.0])   # the falling twin
    assert fade.advance(2) and not fade and fade.left == 0


def test_a_crossfades_two_sides_always_sum_to_one():
    fade = Fade(block=128)
    fade.start(240)
    for k in (128, 112):
        falling = fade.gains(k, rising=False).copy()
        assert np.allclose(falling + fade.gains(k, rising=True), 1.0)
        fade.advance(k)
    assert not fade


def test_the_published_moment_is_read_by_field_name(library, tmp_path):
    t = rig(Show.of_song(position_song(library, "ci", bars=2, count_in=1)), tmp_path)
    run(t, BAR // 2, {0: [c.Play()]})
    m = t.moment
    assert isinstance(m, Moment)
    assert m.state == TransportState.COUNT_IN and m.ci_len == BAR and m.ci_pos == BAR // 2
    assert t.snapshot(m).count_in_left == BAR // 2
    t.apply(c.Stop())
    assert t.snapshot(m).count_in_left == BAR // 2          # an old moment stays as it was
    assert t.moment.state == TransportState.STOPPED
    close(t)
