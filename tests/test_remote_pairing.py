"""Pairing the web remote from the box itself (issue 18): the menu's Remote page, through
the daemon's pairing files (appliance/service/remote_pairing.py), against the web
server's own `Access` on the same folder."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from luma.core.device import dummy

from appliance.service.remote_pairing import RemotePairing
from appliance.ui.display import Display, PixelScreen
from appliance.ui.screens import big_text
from appliance.ui.menu import PAIR, PAIRING_CODE, REMOTE, Menu, MenuView
from appliance.ui.text import text_screen
from appliance.vocab import commands as c
from appliance.vocab.state import State
from appliance.web.access import Access, Refused


def remote_menu(pairing: RemotePairing, emitted: list | None = None) -> Menu:
    """A menu whose box commands go to `pairing`, as the daemon routes them."""
    def emit(cmd: c.Command) -> None:
        if emitted is not None:
            emitted.append(cmd)
        pairing.apply(cmd)
    menu = Menu(emit, songs=list, setlists=list, outputs=("main",), paired=pairing.paired,
                pairing_code=lambda: pairing.code)
    menu.apply(c.OpenMenu())
    menu.apply(c.MenuMove(menu.view().items.index(REMOTE)))
    menu.apply(c.MenuSelect())
    return menu


def paired_token(access: Access, client: str = "10.0.0.7") -> tuple[str, str]:
    """(token, its id): a browser paired the way the web server pairs one."""
    token = access.pair(access.new_code(), client)
    ident = next(t["id"] for t in access.tokens() if t["client"] == client)
    return token, ident


def test_the_remote_page_lists_the_devices_access_paired(tmp_path):
    access = Access(tmp_path, now=lambda: 1_764_691_200.0)
    _, first = paired_token(access, "10.0.0.7")
    _, second = paired_token(access, "10.0.0.8")
    view = remote_menu(RemotePairing(tmp_path)).view()
    assert view.title == REMOTE
    assert view.items[0] == PAIR
    assert [item.split()[0] for item in view.items[1:]] == [first, second]
    assert view.items[1].endswith(" 10.0.0.7") and view.items[2].endswith(" 10.0.0.8")


def test_pair_a_device_shows_a_code_access_accepts_once(tmp_path):
    emitted: list = []
    pairing = RemotePairing(tmp_path)
    menu = remote_menu(pairing, emitted)
    menu.apply(c.MenuSelect())                    # "Pair a device"
    view = menu.view()
    assert emitted == [c.NewPairingCode()]
    assert view.title == PAIRING_CODE and len(view.big) == 8 and view.big.isdigit()
    access = Access(tmp_path)
    assert access.check(access.pair(view.big, "10.0.0.9"))
    with pytest.raises(Refused) as used:
        access.pair(view.big, "10.0.0.9")
    assert used.value.status == 401
    menu.apply(c.MenuBack())
    assert len(menu.view().items) == 2            # the new device is listed


def test_revoke_from_the_menu_makes_access_refuse_the_token(tmp_path):
    access = Access(tmp_path)
    token, ident = paired_token(access)
    kept, _ = paired_token(access, "10.0.0.8")
    emitted: list = []
    menu = remote_menu(RemotePairing(tmp_path), emitted)
    menu.apply(c.MenuMove(1))
    menu.apply(c.MenuSelect())
    assert menu.view().title == f"Revoke {ident}?"
    menu.apply(c.MenuMove(1))
    menu.apply(c.MenuSelect())                    # "Yes, revoke"
    assert emitted == [c.RevokeRemote(ident)]
    assert not access.check(token) and access.check(kept)
    assert menu.view().title == REMOTE and len(menu.view().items) == 2


def test_no_revoke_leaves_the_device_paired(tmp_path):
    access = Access(tmp_path)
    token, _ = paired_token(access)
    menu = remote_menu(RemotePairing(tmp_path))
    menu.apply(c.MenuMove(1))
    menu.apply(c.MenuSelect())
    menu.apply(c.MenuSelect())                    # "No"
    assert access.check(token)


@pytest.mark.parametrize("created", ["yesterday", math.nan, math.inf, 1e300, True])
def test_a_hand_edited_pairing_time_reads_as_unknown(tmp_path, created):
    record = {"id": "abcd1234", "hash": "0" * 64, "created": created, "client": "10.0.0.7"}
    (tmp_path / "tokens.json").write_text(json.dumps([record]))
    assert remote_menu(RemotePairing(tmp_path)).view().items[1] == "abcd1234 ? 10.0.0.7"


def test_a_folder_the_daemon_cannot_write_is_said_on_the_page_not_raised(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")                        # a file where the folder should be
    menu = remote_menu(RemotePairing(blocked / "state"))
    menu.apply(c.MenuSelect())
    assert menu.view().big == "cannot reach the remote's folder"


def test_without_the_web_remote_there_is_no_remote_page():
    menu = Menu(lambda cmd: None, songs=list, setlists=list, outputs=("main",))
    menu.apply(c.OpenMenu())
    assert REMOTE not in menu.view().items


# -- what the display shows --------------------------------------------------------------
def test_the_code_is_drawn_large_across_the_display():
    menu = MenuView(PAIRING_CODE, ("valid 10 minutes, once",), 0, big="12345678")
    device = dummy(width=128, height=64, mode="1")
    Display(PixelScreen(device), state=State, menu=lambda s: menu, rate=48000).step()
    px = np.array(device.image.convert("1"), dtype=bool)
    lit = np.argwhere(px[14:48])
    height = lit[:, 0].max() - lit[:, 0].min()
    width = lit[:, 1].max() - lit[:, 1].min()
    assert height >= 14 and width >= 90           # digits twice the menu's, most of the width
    assert big_text("12345678") == "1234 5678"    # read out in fours


def test_a_character_lcd_shows_the_code_on_its_top_line():
    menu = MenuView(PAIRING_CODE, ("valid 10 minutes, once",), 0, big="12345678")
    assert text_screen(State(), menu, "", cols=16, rows=2) == ["Code 12345678   ",
                                                                ">valid 10 minute"]


def test_the_pairing_files_are_the_remote_groups_and_nobody_elses(tmp_path):
    """The web server and the daemon are two users in group backline-remote: both must
    write the codes, the tokens and the lock; no one else may read them."""
    import os
    import stat

    folder = tmp_path / "web"
    old = os.umask(0o022)                    # a service's usual umask
    try:
        Access(folder).new_code()
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o770
    assert modes and all(m == 0o660 for m in modes.values()), modes
