"""The running `vsm serve`: build once, serve, rebuild on change, tell the open pages."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from generator.build import BuildOptions, BuildReport, build
from generator.cache import BuildCache
from generator.render.env import TEMPLATES
from generator.render.memo import RenderMemo
from generator.serve.handler import Handler
from generator.serve.live import Broadcast
from generator.serve.watch import SCRATCH_SUFFIXES, SKIPPED_DIRS, FileEvents, declared_paths
from generator.write import SiteWriteError

SHOWN = 20  # problems in the overlay; the log gets the same list


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
        # the served site's files (the very bytes objects the render memo holds: no copy)
        self._written: dict[str, bytes] = {}
        self._page_gen: dict[str, int] = {}  # file -> the generation that last changed it
        self._pages: Counter[str] = Counter()  # the files the open pages show (their event streams)
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
            "seconds": 0.0,  # until the open pages were written
            "rest": [],  # units rendered after the open pages were written (a second pass)
            "rest_seconds": 0.0,
        }
        self.httpd: ThreadingHTTPServer | None = None
        self.observer: BaseObserver = PollingObserver(timeout=0.5) if options.poll else Observer()
        self._threads: list[threading.Thread] = []
        self.url = ""

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Bind the port (OSError when taken), start watching, build once, then serve and rebuild on change."""
        httpd = ThreadingHTTPServer((self.options.host, self.options.port), Handler)
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
        for path in [self.root / rel for rel in self._inputs] + declared_paths(self.root):
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
        handler = FileEvents(self)
        for key in sorted(keys - set(self._watches)):
            self._watches[key] = self.observer.schedule(handler, key[0], recursive=key[1])

    def relevant(self, path: Path) -> str | None:
        """Why a changed path matters ('project', 'templates', 'stream <id>', 'input of <ids>'), or None."""
        name = path.name
        if name.startswith((".#", "#")) or name.endswith(SCRATCH_SUFFIXES) or name == "4913":
            return None  # editors' scratch and lock files; their atomic renames arrive as moves to the real name
        if path.is_relative_to(TEMPLATES):
            return "templates"
        if not path.is_relative_to(self.root):
            return None
        parts = path.relative_to(self.root).parts
        if not parts or any(p in SKIPPED_DIRS for p in parts):
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
        focus = None if initial else self.open_pages()
        report, error = self._pass(focus)
        rest = bool(
            report is not None and error is None and self.memo.deferred and not self._stop.is_set()
        )
        self._publish(report, error, initial, more=rest)
        if rest:  # the open pages are up to date: now the rest of the site
            again, error = self._pass(None)
            self._publish(again, error, initial, more=False, first=report)

    def _pass(self, focus: frozenset[str] | None) -> tuple[BuildReport | None, str | None]:
        """One build into the served folder; with a focus, units no open page shows may wait (render/memo.py)."""
        self.memo.focus = focus
        try:
            report = build(
                BuildOptions(project=self.root, out=self.out, base_url=self.url),
                cache=self.cache,
                memo=self.memo,
                previous=self._written,
            )
            return report, None if report.written else _problems_text(report)
        except SiteWriteError as exc:  # a full disk or a folder taken away: not a bug
            return None, (
                f"{exc.out}: error[E400]: cannot write the site into the server's private folder: "
                f"{exc.reason}; the last good site is still served\n"
                "  hint: free space on the disk that holds the temporary folder (TMPDIR), then save again"
            )
        except Exception as exc:  # a bug, not bad input: keep serving, show it
            self.log(traceback.format_exc())
            error = f"internal error: {type(exc).__name__}: {exc}\n  hint: this is a bug in vsm; the traceback is in the terminal"
            return None, error
        finally:
            self.memo.focus = None

    def _publish(
        self,
        report: BuildReport | None,
        error: str | None,
        initial: bool,
        more: bool,
        first: BuildReport | None = None,
    ) -> None:
        """Record a pass's outcome, move the generation of every file it changed, tell the open pages.

        `more`: a second pass follows (the server stays `building`); `first`: this is that second
        pass, and `first` the one that wrote the open pages."""
        written = report.files if report is not None and error is None else self._written
        with self._cond:
            if report is not None:
                self._inputs = (
                    {**self._inputs, **{rel: ids for rel, ids in _by_input(report).items()}}
                    if error
                    else _by_input(report)
                )
                rendered = list(self.memo.rendered) if report.written else []
                if first is None:
                    self.status.update(
                        computed=report.computed,
                        reused=report.reused,
                        rendered=rendered,
                        seconds=round(report.seconds, 3),
                        rest=[],
                        rest_seconds=0.0,
                    )
                else:
                    self.status.update(
                        rendered=self.status["rendered"] + rendered,
                        rest=rendered,
                        rest_seconds=round(report.seconds, 3),
                    )
            # a page the memo put back is the object served before: equal at once, nothing hashed
            changed = {
                f
                for f in written.keys() | self._written.keys()
                if written.get(f) != self._written.get(f)
            }
            self._written = written
            self.status.update(building=more, ok=error is None, error=error)
            if error is None and changed:  # a rebuild with identical output reloads nothing
                self.status["generation"] += 1
                self._page_gen.update(dict.fromkeys(changed, self.status["generation"]))
            message = self.state_message()
        try:  # watch the inputs this build found before anyone hears about it
            self._rewatch()
        except OSError as exc:
            self.log(f"warning: cannot watch every input folder: {exc}")
        if error is not None:
            self.log(f"build failed; still serving the last good site:\n{error}")
        elif first is not None and report is not None:
            self.log(
                f"rendered the other {len(self.memo.rendered)} page groups in {report.seconds:.2f}s"
            )
        elif report is not None:
            warned = (
                f", {len(report.warnings)} warning(s) (see the data-quality pages)"
                if report.warnings
                else ""
            )
            later = f"; {len(self.memo.deferred)} more after the open pages" if more else ""
            self.log(
                f"{'built' if initial else 'rebuilt'} in {report.seconds:.2f}s: computed {', '.join(report.computed) or 'none'}; "
                f"reused {', '.join(report.reused) or 'none'}; "
                f"rendered {len(self.memo.rendered)} of {len(self.memo.units)} page groups{later}{warned}"
            )
        self.broadcast.publish(message)

    # ------------------------------------------------------------ open pages

    def open_pages(self) -> frozenset[str] | None:
        """The site files the open pages show, or None when no page is open."""
        with self._cond:
            return frozenset(self._pages) or None

    def page_opened(self, page: str) -> str:
        """An open page's event stream names its file; '' (the site's generation) when it is no page of the site."""
        with self._cond:
            if page not in self._written or not page.endswith(".html"):
                return ""
            self._pages[page] += 1
            return page

    def page_closed(self, page: str) -> None:
        if page:
            with self._cond:
                self._pages[page] -= 1
                if self._pages[page] <= 0:
                    del self._pages[page]

    def page_generation(self, page: str) -> int:
        """The generation that last changed this file (the site's for anything else): what a served page carries."""
        with self._cond:
            return int(self._page_gen.get(page, self.status["generation"]))

    def state_message(self) -> str:
        """The state every open page hears: the generation, the error, and the generation of each open page's file."""
        state = {k: self.status[k] for k in ("generation", "ok", "error", "building")}
        state["pages"] = {page: self._page_gen.get(page, 0) for page in sorted(self._pages)}
        return f"event: state\ndata: {json.dumps(state)}\n\n"


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
