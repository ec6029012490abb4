"""`vsm serve`: build, serve on 127.0.0.1, watch what the streams read, rebuild what changed, reload open pages.

Four kinds of threads: the HTTP server (a thread per request; Server-Sent
Events clients hold theirs open), the watchdog observer, and one builder that
waits for a quiet moment after the last relevant file event (debounce), then
rebuilds through the build cache, so only streams whose inputs changed are read
and computed again. The site is built into a private folder that write_site
swaps atomically; the last good site stays served while a build fails, and the
located error goes to the log and, as an overlay, to every open page. The
reload script is added to HTML responses by the server, never to the built site.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import queue
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from generator.build import BuildOptions, BuildReport, build
from generator.cache import CACHE_DIR, BuildCache
from generator.render.env import TEMPLATES
from generator.render.memo import RenderMemo

LIVE = "/__vsm/"
IMMUTABLE = "public, max-age=31536000, immutable"
SHOWN = 20  # problems in the overlay; the log gets the same list
_WRITES = {
    "created",
    "modified",
    "deleted",
    "moved",
    "closed",
}  # not opened / closed_no_write: reading is no change
_SCRATCH_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload")
_SKIPPED_DIRS = {
    CACHE_DIR,
    "_site",
    "__pycache__",
    ".venv",
    "node_modules",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}

LIVE_JS = r"""(function () {
  var me = document.currentScript, seen = Number(me.dataset.generation);
  var source = new EventSource("/__vsm/events");
  function show(text) {
    var box = document.getElementById("vsm-error-overlay");
    if (!text) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "vsm-error-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;max-height:60vh;overflow:auto;z-index:2147483647;" +
        "background:#fff5f5;color:#611;border:2px solid #c33;border-radius:6px;padding:1rem;box-shadow:0 4px 24px rgba(0,0,0,.3);font:14px/1.4 sans-serif";
      document.body.appendChild(box);
    }
    box.textContent = "";
    var head = document.createElement("strong");
    head.textContent = "vsm serve: the build failed; this is the last good site. Fix the file and save: the page reloads.";
    var pre = document.createElement("pre");
    pre.style.cssText = "white-space:pre-wrap;margin:.5rem 0 0;font:13px/1.4 monospace";
    pre.textContent = text;
    box.appendChild(head);
    box.appendChild(pre);
  }
  source.addEventListener("state", function (e) {
    var state = JSON.parse(e.data);
    if (state.generation !== seen) { source.close(); location.reload(); return; }
    show(state.error);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
"""

_NO_SITE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vsm serve: no site yet</title></head>
<body><h1>No site yet</h1><p>The first build failed; the error is shown below and in the terminal.
This page reloads by itself once the build succeeds.</p></body></html>
"""


@dataclass(frozen=True)
class ServeOptions:
    project: Path
    port: int = 8000
    poll: bool = False
    base: str = "/"
    debounce: float = 0.15  # seconds of quiet after the last file event before rebuilding
    host: str = "127.0.0.1"


def normalize_base(base: str) -> str:
    """'/repo', 'repo/' or '/repo/' -> '/repo/'; '' or '/' -> '/'."""
    inner = "/".join(p for p in base.split("/") if p)
    return f"/{inner}/" if inner else "/"


class Broadcast:
    """The open event streams: one queue per client; None tells a client's thread to finish."""

    def __init__(self) -> None:
        self._clients: set[queue.Queue[str | None]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def subscribe(self) -> queue.Queue[str | None] | None:
        with self._lock:
            if self._closed:
                return None
            q: queue.Queue[str | None] = queue.Queue()
            self._clients.add(q)
            return q

    def unsubscribe(self, q: queue.Queue[str | None]) -> None:
        with self._lock:
            self._clients.discard(q)

    def publish(self, message: str) -> None:
        with self._lock:
            for q in self._clients:
                q.put(message)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for q in self._clients:
                q.put(None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._clients)


class _Events(FileSystemEventHandler):
    def __init__(self, server: DevServer) -> None:
        self.server = server

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _WRITES or (
            event.is_directory and event.event_type in ("modified", "closed")
        ):
            return
        paths = [os.fsdecode(event.src_path)] + (
            [os.fsdecode(event.dest_path)] if event.dest_path else []
        )
        self.server.notice(Path(p) for p in paths)


class DevServer:
    """The running `vsm serve`: start(), then wait()/request_stop(), then stop(). Never prints; `log` gets every message."""

    def __init__(
        self, options: ServeOptions, log: Callable[[str], None] = lambda text: None
    ) -> None:
        self.options = options
        self.root = options.project.resolve()
        self.base = normalize_base(options.base)
        self.log = log
        self.cache = BuildCache(self.root, memory=True)
        self.memo = RenderMemo()
        self._tmp = Path(tempfile.mkdtemp(prefix="vsm-serve-"))
        self.out = self._tmp / "site"
        self.broadcast = Broadcast()
        self._cond = threading.Condition()
        self._changed: set[Path] = set()
        self._last_change = 0.0
        self._stop = threading.Event()
        self._stopped = False
        self._inputs: dict[
            str, set[str]
        ] = {}  # project-relative input -> ids of the streams that read it
        self._watches: dict[tuple[str, bool], ObservedWatch] = {}
        self._site_digest = ""
        self.status: dict[str, Any] = {
            "generation": 0,
            "builds": 0,
            "rebuilds": 0,
            "building": False,
            "pending": False,
            "ok": False,
            "error": None,
            "computed": [],
            "reused": [],
            "rendered": [],  # page units rendered again (render/memo.py); the rest were kept
            "seconds": 0.0,
        }
        self.httpd: ThreadingHTTPServer | None = None
        self.observer: BaseObserver = PollingObserver(timeout=0.5) if options.poll else Observer()
        self._threads: list[threading.Thread] = []
        self.url = ""

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Bind the port (OSError when taken), start watching, build once, then serve and rebuild on change."""
        httpd = ThreadingHTTPServer((self.options.host, self.options.port), _Handler)
        httpd.daemon_threads = True
        httpd.app = self  # type: ignore[attr-defined]
        self.httpd = httpd
        self.url = f"http://{self.options.host}:{httpd.server_address[1]}{self.base}"
        self._rewatch()
        self.observer.start()
        self._build(frozenset(), initial=True)
        for name, target in (("vsm-http", httpd.serve_forever), ("vsm-builder", self._builder)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT: the live-reload endpoints live under /__vsm/ here, outside --base."""
        return self.url[: -len(self.base)] if self.url else ""

    def wait(self, timeout: float | None = None) -> bool:
        """True once a stop was requested (by request_stop, e.g. from a signal handler)."""
        return self._stop.wait(timeout)

    def request_stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def stop(self) -> None:
        """Close everything: observer, event streams, server socket, builder; remove the private site folder."""
        if self._stopped:
            return
        self._stopped = True
        self.request_stop()
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=10)
        self.broadcast.close()
        if self.httpd is not None:
            if any(t.name == "vsm-http" for t in self._threads):
                self.httpd.shutdown()
            self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=60)
        shutil.rmtree(self._tmp, ignore_errors=True)

    # ------------------------------------------------------------ watching

    def _rewatch(self) -> None:
        """Watch the project root (vsm.yaml), streams/, the templates, and wherever else inputs live."""
        wanted = {(self.root, False), (self.root / "streams", True), (TEMPLATES, True)}
        for path in [self.root / rel for rel in self._inputs] + _declared_paths(self.root):
            path = path.resolve()
            if path.is_relative_to(self.root / "streams") or not path.is_relative_to(self.root):
                continue
            if (path / ".git").exists():  # a repository: only its refs say that history changed
                wanted |= {(path / ".git", False), (path / ".git" / "refs", True)}
                continue
            while (
                not path.is_dir() and path != self.root
            ):  # a missing export: watch where it will appear
                path = path.parent
            wanted.add((path, False))
        keys = {(str(p), recursive) for p, recursive in wanted if p.is_dir()}
        for key in set(self._watches) - keys:
            with contextlib.suppress(
                KeyError, OSError
            ):  # the folder is gone, and its watch with it
                self.observer.unschedule(self._watches.pop(key))
        handler = _Events(self)
        for key in sorted(keys - set(self._watches)):
            self._watches[key] = self.observer.schedule(handler, key[0], recursive=key[1])

    def relevant(self, path: Path) -> str | None:
        """Why a changed path matters ('project', 'templates', 'stream <id>', 'input of <ids>'), or None."""
        name = path.name
        if name.startswith((".#", "#")) or name.endswith(_SCRATCH_SUFFIXES) or name == "4913":
            return None  # editors' scratch and lock files; their atomic renames arrive as moves to the real name
        if path.is_relative_to(TEMPLATES):
            return "templates"
        if not path.is_relative_to(self.root):
            return None
        parts = path.relative_to(self.root).parts
        if not parts or any(p in _SKIPPED_DIRS for p in parts):
            return None
        if parts == ("vsm.yaml",):
            return "project"
        if (
            ".git" in parts
        ):  # a repository an input reads: only HEAD, refs and the shallow list change its history
            rest = parts[parts.index(".git") + 1 :]
            if (
                not rest
                or rest[0] not in ("HEAD", "packed-refs", "shallow", "refs")
                or name.endswith(".lock")
            ):
                return None
        if len(parts) >= 2 and parts[0] == "streams" and not parts[1].startswith("."):
            return f"stream {parts[1]}"
        rel = "/".join(parts)
        for known, ids in self._inputs.items():
            if known == "." or rel == known or rel.startswith(known + "/"):
                return f"input of {', '.join(sorted(ids))}"
        return (
            "project"
            if not self.status["ok"] and not any(p.startswith(".") for p in parts)
            else None
        )

    def notice(self, paths: Iterable[Path]) -> None:
        """A file event: forget cached digests, and queue a rebuild if any path matters."""
        paths = list(paths)
        self.cache.digests.forget(paths)
        relevant = {p for p in paths if self.relevant(p) is not None}
        if not relevant:
            return
        with self._cond:
            self._changed |= relevant
            self._last_change = time.monotonic()
            self.status["pending"] = True
            self._cond.notify_all()

    def _builder(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._changed and not self._stop.is_set():
                    self._cond.wait()
                while not self._stop.is_set():  # debounce: wait until the burst of events is over
                    quiet = self._last_change + self.options.debounce - time.monotonic()
                    if quiet <= 0:
                        break
                    self._cond.wait(quiet)
                changed, self._changed = frozenset(self._changed), set()
                self.status["pending"] = False
            if not self._stop.is_set():
                self._build(changed)

    # ------------------------------------------------------------ building

    def _build(self, changed: frozenset[Path], initial: bool = False) -> None:
        with self._cond:
            self.status.update(
                building=True,
                builds=self.status["builds"] + 1,
                rebuilds=self.status["rebuilds"] + (0 if initial else 1),
            )
        if (
            changed
        ):  # editors' temporary files of an atomic save are gone by now: name what is there
            named = [p for p in changed if p.exists()] or list(changed)
            shown = sorted(
                p.relative_to(self.root).as_posix() if p.is_relative_to(self.root) else str(p)
                for p in named
            )
            self.log(
                f"changed: {', '.join(shown[:5])}{f' and {len(shown) - 5} more' if len(shown) > 5 else ''}"
            )
        report: BuildReport | None = None
        try:
            report = build(
                BuildOptions(project=self.root, out=self.out, base_url=self.url),
                cache=self.cache,
                memo=self.memo,
            )
            error = None if report.written else _problems_text(report)
        except Exception as exc:  # a bug, not bad input: keep serving, show it
            error = f"internal error: {type(exc).__name__}: {exc}\n  hint: this is a bug in vsm; the traceback is in the terminal"
            self.log(traceback.format_exc())
        with self._cond:
            if report is not None:
                self._inputs = (
                    {**self._inputs, **{rel: ids for rel, ids in _by_input(report).items()}}
                    if error
                    else _by_input(report)
                )
                self.status.update(
                    computed=report.computed,
                    reused=report.reused,
                    rendered=list(self.memo.rendered) if report.written else [],
                    seconds=round(report.seconds, 3),
                )
            site_digest = _tree_digest(self.out) if error is None else self._site_digest
            changed_site = site_digest != self._site_digest
            self._site_digest = site_digest
            self.status.update(building=False, ok=error is None, error=error)
            if error is None and changed_site:  # a rebuild with identical output reloads nothing
                self.status["generation"] += 1
            message = self.state_message()
        try:  # watch the inputs this build found before anyone hears about it
            self._rewatch()
        except OSError as exc:
            self.log(f"warning: cannot watch every input folder: {exc}")
        if error is not None:
            self.log(f"build failed; still serving the last good site:\n{error}")
        elif report is not None:
            warned = (
                f", {len(report.warnings)} warning(s) (see the data-quality pages)"
                if report.warnings
                else ""
            )
            self.log(
                f"{'built' if initial else 'rebuilt'} in {report.seconds:.2f}s: computed {', '.join(report.computed) or 'none'}; "
                f"reused {', '.join(report.reused) or 'none'}; "
                f"rendered {len(self.memo.rendered)} of {len(self.memo.units)} page groups{warned}"
            )
        self.broadcast.publish(message)

    def state_message(self) -> str:
        state = {k: self.status[k] for k in ("generation", "ok", "error", "building")}
        return f"event: state\ndata: {json.dumps(state)}\n\n"


def _declared_paths(root: Path) -> list[Path]:
    """Every path a stream.yaml's sources name, valid or not, so that creating a missing file is seen."""
    from generator.sources import KINDS

    names = {name for module in KINDS.values() for name in module.Options.path_fields}
    out = []
    for definition in sorted((root / "streams").glob("*/stream.yaml")):
        try:
            doc = yaml.safe_load(definition.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        sources = doc.get("sources") if isinstance(doc, dict) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, dict):
                out += [
                    definition.parent / value
                    for key, value in source.items()
                    if key in names and isinstance(value, str) and value
                ]
    return out


def _tree_digest(folder: Path) -> str:
    """sha256 of every file's path and bytes: tells a rebuild that changed the site from one that did not."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(
                path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
            )
    return h.hexdigest()


def _by_input(report: BuildReport) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for stream_id, inputs in report.inputs.items():
        for rel in inputs:
            out.setdefault(rel, set()).add(stream_id)
    return out


def _problems_text(report: BuildReport) -> str:
    problems = report.errors or report.problems
    lines = [p.format() for p in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"... and {len(problems) - SHOWN} more")
    return "\n".join(lines)


class _Handler(BaseHTTPRequestHandler):
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
        generation = app.status[
            "generation"
        ]  # before reading: a swap in between costs one extra reload, never a missed one
        if generation == 0:
            return self._send(
                503, self._inject(_NO_SITE.encode(), generation), "text/html; charset=utf-8", head
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
            page = site / "404.html"
            body = (
                page.read_bytes()
                if page.is_file()
                else b"<!doctype html><title>Not found</title><body><h1>Not found</h1></body>"
            )
            return self._send(404, self._inject(body, generation), "text/html; charset=utf-8", head)
        ctype = _content_type(target.name)
        if ctype.startswith("text/html"):
            body = self._inject(body, generation)
        # assets/ names carry their content hash (or plotly.js's version): a reload never fetches them again
        fixed = {"Cache-Control": IMMUTABLE} if parts[:1] == ("assets",) else None
        self._send(200, body, ctype, head, fixed)

    def _inject(self, html: bytes, generation: int) -> bytes:
        tag = f'<script src="{LIVE}live.js" data-generation="{generation}"></script>\n'.encode()
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
