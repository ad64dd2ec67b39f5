"""The web remote's HTTP + WebSocket API (docs/remote.md, "The web remote"), a Starlette
app. Every `/api/` route but `POST /api/pair` needs the `backline_token` cookie (401);
every POST, PUT and DELETE also needs an `Origin` that is this server's own `Host` (403,
against a page elsewhere posting with the user's cookie); the WebSocket checks both
before it accepts. The state, commands and setlists go through the daemon's control
socket (DaemonLink); uploads, the trash and the takes are files this service handles.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..config import Config
from . import library_files, uploads
from .access import Access, Refused
from .daemon_link import DaemonGone, DaemonLink

COOKIE = "backline_token"
COOKIE_AGE = 10 * 365 * 24 * 3600
STATIC = Path(__file__).parent / "static"
MAX_JSON = 1024 * 1024       # a JSON body; the upload is the only large one
PUBLIC = {("POST", "/api/pair")}
CHANGES = {"POST", "PUT", "DELETE", "PATCH"}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


async def _body(request: Request) -> dict:
    """The request's JSON object; ValueError saying why not (NaN and inf are refused)."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON:
            raise ValueError(f"the body is over {MAX_JSON // 1024} KiB")
    try:
        data = json.loads(raw or b"{}", parse_constant=_no_constant)
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the body is a JSON object")
    return data


def same_origin(headers) -> bool:
    """The page's origin is this server's: Origin's host:port is the Host header."""
    origin, host = headers.get("origin"), headers.get("host")
    return bool(origin and host) and urlsplit(origin).netloc.lower() == host.lower()


class Web:
    """The app's parts: the config (library, recordings, upload limit), who may use it,
    the daemon's socket, the upload jobs."""

    def __init__(self, config: Config, access: Access, link: DaemonLink) -> None:
        self.config, self.access, self.link = config, access, link
        self.jobs: dict[str, uploads.Job] = {}

    # -- the gate ---------------------------------------------------------------------
    def gate(self, request: Request) -> Response | None:
        """401 without a valid token, 403 for a change from another origin."""
        key = (request.method, request.url.path)
        if key not in PUBLIC and not self.access.check(request.cookies.get(COOKIE)):
            return _error(401, "not paired: pair this browser with a code (backline remote pair)")
        if request.method in CHANGES and not same_origin(request.headers):
            return _error(403, "refused: the request did not come from this box's page")
        return None

    async def ask(self, message: dict) -> dict:
        return await self.link.ask(message)

    # -- routes -----------------------------------------------------------------------
    async def pair(self, request: Request) -> Response:
        try:
            code = (await _body(request)).get("code")
            token = self.access.pair(code, request.client.host if request.client else "")
        except ValueError as exc:
            return _error(400, str(exc))
        except Refused as exc:
            return _error(exc.status, str(exc))
        response = JSONResponse({"ok": True})
        response.set_cookie(COOKIE, token, max_age=COOKIE_AGE, path="/", httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    async def logout(self, request: Request) -> Response:
        self.access.forget(request.cookies.get(COOKIE, ""))
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path="/")
        return response

    async def state(self, request: Request) -> Response:
        if self.link.state is None:
            return _error(503, "the player is not running" if not self.link.connected
                          else "no state from the player yet")
        return JSONResponse(self.link.state)

    async def events(self, ws: WebSocket) -> None:
        if not self.access.check(ws.cookies.get(COOKIE)) or not same_origin(ws.headers):
            await ws.close(code=1008)           # before accept: the handshake gets 403
            return
        await ws.accept()
        q = self.link.listen()
        try:
            while True:
                await ws.send_text(json.dumps({"state": await q.get()}))
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.link.unlisten(q)

    async def command(self, request: Request) -> Response:
        try:
            body = await _body(request)
        except ValueError as exc:
            return _error(400, str(exc))
        message = {"command": body.get("command")}
        if "args" in body:
            message["args"] = body["args"]
        reply = await self.ask(message)
        return JSONResponse({k: v for k, v in reply.items() if k != "id"})

    async def songs(self, request: Request) -> Response:
        return JSONResponse((await self._request({"request": "songs"}))["songs"])

    async def delete_song(self, request: Request) -> Response:
        name = request.path_params["name"]
        if library_files.trash_song(self.config.library, name) is None:
            return _error(404, f"no song {name!r} in the library")
        return JSONResponse({"ok": True})

    async def setlists(self, request: Request) -> Response:
        return JSONResponse((await self._request({"request": "setlists"}))["setlists"])

    async def setlist(self, request: Request) -> Response:
        name = request.path_params["name"]
        reply = await self.ask({"request": "setlist", "name": name})
        if not reply["ok"]:
            return _error(404, reply["error"])
        return JSONResponse({k: reply[k] for k in ("name", "songs", "transitions")})

    async def save_setlist(self, request: Request) -> Response:
        try:
            body = await _body(request)
        except ValueError as exc:
            return _error(400, str(exc))
        reply = await self.ask({"request": "save_setlist", "name": request.path_params["name"],
                                "songs": body.get("songs"),
                                "transitions": body.get("transitions")})
        return JSONResponse({"ok": True}) if reply["ok"] else _error(400, reply["error"])

    async def load_setlist(self, request: Request) -> Response:
        reply = await self.ask({"request": "load_setlist", "name": request.path_params["name"]})
        if reply["ok"]:
            return JSONResponse({"ok": True})
        error = reply["error"]
        return _error(409, "stop the song first") if "stop the song first" in error \
            else _error(400, error)

    async def upload(self, request: Request) -> Response:
        name = request.query_params.get("name", "")
        if not library_files.plain_name(name):
            return _error(400, f"name: a song's folder name (no slash, no leading dot), not {name!r}")
        try:
            bpm = float(request.query_params["bpm"]) if "bpm" in request.query_params else None
        except ValueError:
            return _error(400, "bpm must be a number")
        if bpm is not None and not 20 <= bpm <= 400:       # NaN and inf fail this too
            return _error(400, f"bpm must be 20 to 400, not {bpm}")
        limit = self.config.web_upload_mb * 2 ** 20
        try:
            length = int(request.headers["content-length"])
        except (KeyError, ValueError):
            return _error(411, "Content-Length is required")
        if length > limit:
            return _error(413, f"the upload is over the limit of {self.config.web_upload_mb} MB "
                               "([web] upload_limit_mb)")
        folder = uploads.import_dir(self.config.library)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".zip", delete=False) as f:
            zip_path = Path(f.name)
            got = 0
            try:
                async for chunk in request.stream():
                    got += len(chunk)
                    if got > min(limit, length):
                        raise ValueError("more than Content-Length or the upload limit")
                    f.write(chunk)
            except Exception as exc:
                f.close()
                zip_path.unlink(missing_ok=True)
                return _error(400, f"upload broken off: {exc}")
        job_id = zip_path.stem
        self.jobs[job_id] = uploads.start(zip_path, name, self.config, bpm=bpm)
        return JSONResponse({"job": job_id}, 202)

    async def upload_job(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        return JSONResponse(job.view()) if job else _error(404, "no such upload")

    async def takes(self, request: Request) -> Response:
        return JSONResponse(library_files.takes(self.config.recordings))

    async def take_file(self, request: Request) -> Response:
        path = library_files.take_file(self.config.recordings, request.path_params["name"],
                                       request.path_params["file"])
        if path is None:
            return _error(404, "no such take file")
        return FileResponse(path, media_type="audio/wav", filename=path.name)

    async def page(self, request: Request) -> Response:
        index = STATIC / "index.html"
        if not index.is_file():
            return PlainTextResponse("Backline: the page is not installed", 404)
        return FileResponse(index, media_type="text/html")

    async def _request(self, message: dict) -> dict:
        reply = await self.ask(message)
        if not reply["ok"]:
            raise DaemonGone(reply["error"])
        return reply


API = [  # (path, method, Web's handler): the contract of docs/remote.md
    ("/api/pair", "POST", "pair"),
    ("/api/logout", "POST", "logout"),
    ("/api/state", "GET", "state"),
    ("/api/command", "POST", "command"),
    ("/api/songs", "GET", "songs"),
    ("/api/songs/{name}", "DELETE", "delete_song"),
    ("/api/setlists", "GET", "setlists"),
    ("/api/setlists/{name}", "GET", "setlist"),
    ("/api/setlists/{name}", "PUT", "save_setlist"),
    ("/api/setlists/{name}/load", "POST", "load_setlist"),
    ("/api/upload", "POST", "upload"),
    ("/api/upload/{job}", "GET", "upload_job"),
    ("/api/takes", "GET", "takes"),
    ("/api/takes/{name}/{file}", "GET", "take_file"),
]


def make_app(config: Config, access: Access, link: DaemonLink) -> Starlette:
    web = Web(config, access, link)

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            refused = web.gate(request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except DaemonGone as exc:
                return _error(503, str(exc))
        return endpoint

    routes = [Route(path, guarded(getattr(web, name)), methods=[method])
              for path, method, name in API]
    routes += [WebSocketRoute("/api/events", web.events), Route("/", web.page),
               Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await link.start()
        try:
            yield
        finally:
            await link.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.web = web
    return app
