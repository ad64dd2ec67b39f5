"""The web remote's locks (docs/remote.md, "Security"): no token, no answer, on every
route; no change from another origin; pairing codes that are single-use, expire and
cannot be guessed; tokens revoked; zips that would write outside the import folder or
inflate without end refused before a byte is written."""
from __future__ import annotations

import io
import stat
import zipfile

import pytest
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect

from appliance.config import Config
from appliance.web import access as access_mod
from appliance.web.access import Access, Refused
from appliance.web.app import API, COOKIE, PUBLIC

from test_web import HOST, ORIGIN, job_done, web


def _path(template: str) -> str:
    return template.replace("{name}", "x").replace("{file}", "y.wav").replace("{job}", "j")


@pytest.fixture
def config(tmp_path) -> Config:
    lib = tmp_path / "lib"
    (lib / "songs").mkdir(parents=True)
    return Config(library=lib, recordings=tmp_path / "rec", web_upload_mb=1)


def test_no_token_is_401_on_every_api_route(config, tmp_path):
    with web(config, tmp_path / "no.sock", tmp_path / "web", paired=False) as client:
        routes = [(m, r.path) for r in client.app.routes if isinstance(r, Route)
                  and r.path.startswith("/api/") for m in r.methods - {"HEAD"}]
        assert len(routes) == len(API)
        for method, path in routes:
            if (method, path) in PUBLIC:
                continue
            for cookies in ({}, {COOKIE: "forged"}):
                client.cookies.clear()
                client.cookies.update(cookies)
                r = client.request(method, _path(path), headers=ORIGIN)
                assert r.status_code == 401, (method, path, r.text)
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(f"ws://{HOST}/api/events", headers=ORIGIN):
                pass
        assert refused.value.code == 1008


def test_a_wrong_or_missing_origin_is_403_on_every_change(config, tmp_path):
    with web(config, tmp_path / "no.sock", tmp_path / "web") as client:
        changes = [(m, r.path) for r in client.app.routes if isinstance(r, Route)
                   and r.path.startswith("/api/") for m in r.methods & {"POST", "PUT", "DELETE"}]
        assert len(changes) == 7
        for method, path in changes:
            for headers in ({"Origin": "http://evil.example"}, {"Origin": f"http://{HOST}.evil"},
                            {}):
                r = client.request(method, _path(path), headers=headers)
                assert r.status_code == 403, (method, path, headers, r.text)
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect(f"ws://{HOST}/api/events",
                                          headers={"Origin": "http://evil.example"}):
                pass


def test_a_revoked_token_and_a_logged_out_one_are_refused(config, tmp_path):
    with web(config, tmp_path / "no.sock", tmp_path / "web") as client:
        assert client.get("/api/takes").status_code == 200
        [token] = client.access.tokens()
        assert client.access.revoke(token["id"])
        assert client.get("/api/takes").status_code == 401
        assert client.post("/api/pair", json={"code": client.access.new_code()},
                           headers=ORIGIN).status_code == 200
        cookie = client.cookies[COOKIE]
        assert client.post("/api/logout", headers=ORIGIN).status_code == 200
        client.cookies.set(COOKIE, cookie)
        assert client.get("/api/takes").status_code == 401
        assert client.access.tokens() == []


def test_a_code_works_once_and_not_after_ten_minutes(tmp_path):
    clock = [1000.0]
    a = Access(tmp_path, now=lambda: clock[0])
    code = a.new_code()
    assert len(code) >= 6 and code.isdigit()
    token = a.pair(code, "client-a")
    assert a.check(token) and len(token) >= 40
    with pytest.raises(Refused) as used:
        a.pair(code, "client-a")
    assert used.value.status == 401
    late = a.new_code()
    clock[0] += access_mod.CODE_TTL_S + 1
    with pytest.raises(Refused) as expired:
        a.pair(late, "client-a")
    assert expired.value.status == 401
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o660   # the group's only
    assert token not in (tmp_path / "tokens.json").read_text()     # kept hashed


def test_a_hundred_wrong_codes_lock_everyone_out_even_with_the_right_code(tmp_path):
    clock = [0.0]
    a = Access(tmp_path, now=lambda: clock[0])
    right = a.new_code()
    wrong = str((int(right) + 1) % 10 ** access_mod.CODE_DIGITS).zfill(access_mod.CODE_DIGITS)
    for i in range(access_mod.GLOBAL):             # from many addresses: the global limit
        with pytest.raises(Refused):
            a.pair(wrong, f"client-{i}")
    with pytest.raises(Refused) as locked:
        a.pair(right, "client-x")
    assert locked.value.status == 429
    clock[0] += access_mod.LOCK_S + 1               # the lock ends; that code has expired
    assert a.check(a.pair(a.new_code(), "client-x"))


def test_wrong_codes_over_http_answer_429_for_the_right_one_too(config, tmp_path):
    with web(config, tmp_path / "no.sock", tmp_path / "web", paired=False) as client:
        right = client.access.new_code()
        statuses = {client.post("/api/pair", json={"code": "00000000"}, headers=ORIGIN).status_code
                    for _ in range(access_mod.GLOBAL)}
        assert statuses == {401, 429}
        r = client.post("/api/pair", json={"code": right}, headers=ORIGIN)
        assert r.status_code == 429 and "too many wrong codes" in r.json()["error"]


def _zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]],
              method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3
    return info


def _device(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFCHR | 0o666) << 16
    info.create_system = 3
    return info


@pytest.mark.parametrize("entries, method, why", [
    ([("song/../../../etc/x", b"owned")], zipfile.ZIP_DEFLATED, "out of its folder (..)"),
    ([("/etc/x", b"owned")], zipfile.ZIP_DEFLATED, "an absolute path"),
    ([("C:/x", b"owned")], zipfile.ZIP_DEFLATED, "an absolute path"),
    ([(_symlink("song/link", "/etc/passwd"), b"/etc/passwd")], zipfile.ZIP_DEFLATED, "a symlink"),
    ([(_device("song/null"), b"")], zipfile.ZIP_DEFLATED, "a device file"),
    ([("song/bomb.wav", bytes(10_000_000))], zipfile.ZIP_BZIP2, "a zip bomb?"),
    ([(f"song/{i}.wav", bytes(3 * 2 ** 20)) for i in range(2)], zipfile.ZIP_DEFLATED,
     "unpacks to more than 4 MB"),
])
def test_an_unsafe_zip_is_refused_and_nothing_is_written(config, tmp_path, entries, method, why):
    data = _zip_with(entries, method)
    if why == "a zip bomb?":
        info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
        assert info.file_size / info.compress_size >= 10_000
    before = {p for p in tmp_path.rglob("*")}
    with web(config, tmp_path / "no.sock", tmp_path / "web") as client:
        r = client.post("/api/upload?name=Song", content=data, headers=ORIGIN)
        assert r.status_code == 202
        got = job_done(client, r.json()["job"])
        assert got["state"] == "failed" and why in got["message"], got
    after = {p for p in tmp_path.rglob("*")} - before
    assert all(p.is_relative_to(tmp_path / "web") or p == config.library / ".uploads"
               for p in after), after
    assert not (tmp_path.parent / "etc").exists()


def test_an_upload_over_the_limit_or_without_its_length_is_refused(config, tmp_path):
    with web(config, tmp_path / "no.sock", tmp_path / "web") as client:
        r = client.post("/api/upload?name=Song", content=bytes(2 * 2 ** 20), headers=ORIGIN)
        assert r.status_code == 413 and "upload_limit_mb" in r.json()["error"]
        r = client.post("/api/upload?name=Song", content=iter([b"PK"]), headers=ORIGIN)
        assert r.status_code == 411
        for name in ("../x", ".hidden", ""):
            r = client.post(f"/api/upload?name={name}", content=b"PK", headers=ORIGIN)
            assert r.status_code == 400
        r = client.post("/api/upload?name=x&bpm=nan", content=b"PK", headers=ORIGIN)
        assert r.status_code == 400 and "bpm must be 20 to 400, not nan" in r.json()["error"]
    assert not list((config.library / ".uploads").glob("*.zip"))


def test_the_upload_limit_is_read_from_the_config(tmp_path):
    from appliance.config import load_config
    from appliance.errors import BacklineError
    cfg = tmp_path / "config.toml"
    cfg.write_text("[web]\nupload_limit_mb = 512\n")
    assert load_config(cfg).web_upload_mb == 512
    assert Config().web_upload_mb == 2048
    cfg.write_text("[web]\nupload_limit_mb = 0\n")
    with pytest.raises(BacklineError, match=r"config.toml: web.upload_limit_mb"):
        load_config(cfg)
    cfg.write_text("[web]\nupload_limit_mb = nan\n")
    with pytest.raises(BacklineError, match=r"web.upload_limit_mb"):
        load_config(cfg)


def test_backline_remote_pair_tokens_revoke(tmp_path):
    from conftest import run_cli
    state = tmp_path / "web"
    r = run_cli("remote", "pair", "--state", state)
    assert r.code == 0 and r.out.startswith("pairing code: ")
    code = r.out.split()[2]
    assert len(code) == access_mod.CODE_DIGITS and code.isdigit()
    Access(state).pair(code, "client-a")                  # the server reads the same folder
    r = run_cli("remote", "tokens", "--state", state)
    [line] = r.out.splitlines()
    ident = line.split()[0]
    assert r.code == 0 and "from client-a" in line
    assert run_cli("remote", "revoke", ident, "--state", state).code == 0
    assert run_cli("remote", "tokens", "--state", state).out == "no paired browsers\n"
    r = run_cli("remote", "revoke", ident, "--state", state)
    assert r.code == 1 and f"no token {ident!r}" in r.err
    r = run_cli("web", "--listen", "nowhere")
    assert r.code == 2 and "HOST:PORT" in r.err
