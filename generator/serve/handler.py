"""HTTP for `vsm serve`: the built site under --base, the live-reload endpoints under /__vsm/.

Paths are checked before any file is read: no `..`, no empty or NUL parts, no
absolute paths. HTML responses get the live-reload script; content-hashed
assets may be cached by the browser, everything else is `no-store`.
"""

from __future__ import annotations

import json
import mimetypes
import queue
import time
from html import escape as html_escape
from http.server import BaseHTTPRequestHandler
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from generator.serve.live import IMMUTABLE, LIVE, LIVE_JS, NO_SITE

if TYPE_CHECKING:
    from generator.serve.server import DevServer


class Handler(BaseHTTPRequestHandler):
    server_version = "vsm-serve"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    @property
    def app(self) -> DevServer:
        return self.server.app  # type: ignore[attr-defined,no-any-return]

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _send(
        self, code: int, body: bytes, ctype: str, head: bool, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        extra = extra or {}
        if "Cache-Control" not in extra:
            self.send_header("Cache-Control", "no-store")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _respond(self, head: bool) -> None:
        path = urlsplit(self.path).path
        app = self.app
        if path.startswith(LIVE):
            return self._live(path[len(LIVE) :], head)
        if not path.startswith(app.base):
            if path + "/" == app.base:
                return self._send(301, b"", "text/plain", head, {"Location": app.base})
            return self._send(
                404,
                f"not found: the site is served under {app.base}\n".encode(),
                "text/plain; charset=utf-8",
                head,
            )
        rel = unquote(path[len(app.base) :])
        parts = PurePosixPath(rel).parts
        if any(p in ("..", "") or "\0" in p for p in parts) or rel.startswith("/"):
            return self._send(400, b"bad path\n", "text/plain", head)
        page = rel + "index.html" if not rel or rel.endswith("/") else rel
        # before reading: a swap in between costs one extra reload, never a missed one
        generation = app.page_generation(page)
        if app.status["generation"] == 0:
            return self._send(
                503, self._inject(NO_SITE.encode(), generation), "text/html; charset=utf-8", head
            )
        for attempt in range(2):
            site = app.out.resolve()  # per request: the folder the latest swap put in place
            target = site.joinpath(*parts)
            try:
                if target.is_dir():
                    if rel and not rel.endswith("/"):
                        return self._send(301, b"", "text/plain", head, {"Location": path + "/"})
                    target = target / "index.html"
                body = target.read_bytes()
                break
            except OSError:
                if attempt == 0:
                    time.sleep(
                        0.05
                    )  # a swap in progress: the new folder is in place a moment later
        else:
            missing = site / "404.html"
            body = (
                missing.read_bytes()
                if missing.is_file()
                else b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>"
            )
            return self._send(404, self._inject(body, generation), "text/html; charset=utf-8", head)
        ctype = _content_type(target.name)
        if ctype.startswith("text/html"):
            body = self._inject(body, generation, page)
        # assets/ names carry their content hash (or plotly.js's version): a reload never fetches them again
        fixed = {"Cache-Control": IMMUTABLE} if parts[:1] == ("assets",) else None
        self._send(200, body, ctype, head, fixed)

    def _inject(self, html: bytes, generation: int, page: str = "") -> bytes:
        """The live-reload script, with the generation of the page's file (of the site for a page of
        none: 404, no site yet) and the file's name, which the script's event stream names."""
        named = f' data-page="{html_escape(page)}"' if page else ""
        tag = f'<script src="{LIVE}live.js" data-generation="{generation}"{named}></script>\n'.encode()
        at = html.lower().rfind(b"</body>")
        return html[:at] + tag + html[at:] if at >= 0 else html + tag

    def _live(self, name: str, head: bool) -> None:
        if name == "live.js":
            return self._send(200, LIVE_JS.encode(), "text/javascript; charset=utf-8", head)
        if name == "status":
            with self.app._cond:
                state = {**self.app.status, "clients": len(self.app.broadcast), "url": self.app.url}
            return self._send(200, json.dumps(state).encode(), "application/json", head)
        if name == "events" and not head:
            return self._events()
        self._send(404, b"not found\n", "text/plain", head)

    def _events(self) -> None:
        q = self.app.broadcast.subscribe()
        if q is None:
            return self._send(503, b"stopping\n", "text/plain", False)
        asked = parse_qs(urlsplit(self.path).query).get("page", [""])[0]
        page = self.app.page_opened(asked[:1000])  # rendered first after an edit while it is open
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with self.app._cond:
                first = self.app.state_message()
            self.wfile.write(b"retry: 1000\n" + first.encode())
            self.wfile.flush()
            while True:
                try:
                    message = q.get(timeout=15)
                except queue.Empty:
                    message = ": ping\n\n"  # finds clients that went away
                if message is None:
                    break
                self.wfile.write(message.encode())
                self.wfile.flush()
        except OSError:  # the page closed or reloaded
            pass
        finally:
            self.app.broadcast.unsubscribe(q)
            self.app.page_closed(page)
            self.close_connection = True


def _content_type(name: str) -> str:
    kind = {
        ".html": "text/html",
        ".js": "text/javascript",
        ".css": "text/css",
        ".csv": "text/csv",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".xml": "application/xml",
        ".txt": "text/plain",
    }.get(Path(name).suffix.lower())
    kind = kind or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return (
        kind + "; charset=utf-8"
        if kind.startswith("text/")
        or kind in ("application/json", "application/xml", "image/svg+xml")
        else kind
    )
