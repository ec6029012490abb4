"""`vsm serve` over real HTTP on 127.0.0.1: serving, watching, debouncing, rebuilding, live reload, errors, shutdown.

Every server is the real DevServer (in a thread, or `python -m generator serve`
in a subprocess) on a free port, serving a copy of tests/data/foundation/project.
Tests wait for events, never for time: the next Server-Sent Events message (the
server sends one after every build), a page's load event, or an element.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import generator.serve.server as serve_module
from generator.serve import DevServer, ServeOptions, normalize_base

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation" / "project"
REPO = Path(__file__).resolve().parent.parent
LOCATED = re.compile(r"streams/demo/stream\.yaml:\d+:\d+: error\[E1\d\d\]: .+")
TIMEOUT = 60  # seconds: generous for a loaded CI machine; the waits end as soon as the event arrives


# ---------------------------------------------------------------- helpers


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers of a GET, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=TIMEOUT) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def status(server: DevServer) -> dict[str, Any]:
    code, body, _ = get(server.origin + "/__vsm/status")
    assert code == 200
    return json.loads(body)  # type: ignore[no-any-return]


def idle(server: DevServer) -> dict[str, Any]:
    """The status once no build runs or waits (a second pass included)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        state = status(server)
        if not state["building"] and not state["pending"]:
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.05)


class Events:
    """An open /__vsm/events stream; `next()` is the state the server sends after the next build."""

    def __init__(self, server: DevServer) -> None:
        self.resp = urllib.request.urlopen(server.origin + "/__vsm/events", timeout=TIMEOUT)
        self.first = self.next()

    def next(self) -> dict[str, Any]:
        while True:
            line = self.resp.readline()
            if not line:
                raise EOFError("the event stream ended")
            if line.startswith(b"data: "):
                return json.loads(line[len(b"data: ") :])  # type: ignore[no-any-return]

    def close(self) -> None:
        self.resp.close()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION, root, ignore=shutil.ignore_patterns(".vsm-cache", "_site"))
    (root / "streams" / "demo" / "notes.md").write_text("First version of the notes.\n", encoding="utf-8")
    return root


@pytest.fixture
def quiet_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Watch an empty templates folder instead of generator/site_templates/, which colleagues may be editing right now."""
    folder = tmp_path / "templates"
    folder.mkdir()
    monkeypatch.setattr(serve_module, "TEMPLATES", folder)
    return folder


def start(project: Path, **options: Any) -> tuple[DevServer, list[str]]:
    logs: list[str] = []
    server = DevServer(ServeOptions(project=project, port=0, **options), log=logs.append)
    server.start()
    return server, logs


@pytest.fixture
def served(project: Path, quiet_templates: Path) -> Iterator[tuple[DevServer, list[str]]]:
    server, logs = start(project)
    try:
        yield server, logs
    finally:
        server.stop()


# ---------------------------------------------------------------- units (fast)


@pytest.mark.parametrize(("given", "expected"), [("/", "/"), ("", "/"), ("repo", "/repo/"), ("/repo", "/repo/"), ("/a/b/", "/a/b/")])
def test_base_is_normalized(given: str, expected: str) -> None:
    assert normalize_base(given) == expected


def test_which_changes_matter(project: Path, quiet_templates: Path) -> None:
    server = DevServer(ServeOptions(project=project, port=0))
    server._inputs = {"shared/events.csv": {"demo"}}
    server.status["ok"] = True
    root = project.resolve()
    assert server.relevant(root / "vsm.yaml") == "project"
    assert server.relevant(root / "streams" / "demo" / "notes.md") == "stream demo"
    assert server.relevant(root / "streams" / "demo" / "reports" / "2026-q1.md") == "stream demo"
    assert server.relevant(root / "shared" / "events.csv") == "input of demo"
    assert server.relevant(quiet_templates / "base.html") == "templates"
    for ignored in (".vsm-cache/streams/demo.pickle", "_site/index.html", "streams/demo/.notes.md.swp",
                    "streams/demo/notes.md~", "streams/demo/4913", "README.md", ".git/index"):
        assert server.relevant(root / ignored) is None, ignored
    server.status["ok"] = False  # after a failed build any project file may be the fix (a data file created, say)
    assert server.relevant(root / "shared" / "new.csv") == "project"
    server.stop()


def test_a_port_in_use_is_a_located_message(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--project", str(project), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"error: cannot listen on 127.0.0.1:{port}" in err and "hint: " in err


# ---------------------------------------------------------------- the running server


@pytest.mark.slow
def test_serves_every_page_with_the_reload_script_injected(served: tuple[DevServer, list[str]]) -> None:
    server, logs = served
    pages = sorted(p.relative_to(server.out).as_posix() for p in server.out.rglob("index.html"))
    assert "index.html" in pages and "streams/demo/index.html" in pages
    for page in pages:
        code, body, headers = get(server.url + page[: -len("index.html")])
        assert code == 200, page
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-store"  # pages change with every edit
        assert b'<script src="/__vsm/live.js"' in body, page
    for asset in server.out.rglob("*.css"):
        code, body, headers = get(server.url + asset.relative_to(server.out).as_posix())
        assert code == 200 and body == asset.read_bytes()  # only HTML gets the script
        # assets' names carry their content hash: a reload takes them from the browser's cache
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    built = b"".join(p.read_bytes() for p in server.out.rglob("*.html"))
    assert b"__vsm" not in built  # injected by the server, never written into the site
    assert get(server.url + "streams/demo")[0] == 301  # folders end in /
    assert get(server.url + "no/such/page/")[0] == 404
    assert status(server)["builds"] == 1 and any("built in" in line for line in logs)


@pytest.mark.slow
def test_rebuilds_after_editing_notes_and_stream_yaml(served: tuple[DevServer, list[str]], project: Path) -> None:
    server, logs = served
    events = Events(server)
    try:
        (project / "streams" / "demo" / "notes.md").write_text("Second version of the notes.\n", encoding="utf-8")
        state = events.next()
        assert state["ok"] and state["generation"] > events.first["generation"]
        assert b"Second version of the notes." in get(server.url + "streams/demo/")[1]
        # notes are only rendered: the metrics are reused and only the overview page is rendered again
        assert status(server)["computed"] == [] and status(server)["rendered"] == ["demo:overview"]

        edit(project / "streams" / "demo" / "stream.yaml", "name: Demo", "name: Demo renamed")
        state = events.next()
        assert state["ok"]
        assert b"Demo renamed" in get(server.url + "streams/demo/")[1]
        assert status(server)["computed"] == ["demo"]
        assert any("changed: streams/demo/stream.yaml" in line for line in logs)
    finally:
        events.close()


@pytest.mark.slow
def test_an_atomic_save_is_seen_and_reading_files_is_not(served: tuple[DevServer, list[str]], project: Path) -> None:
    server, _ = served
    events = Events(server)
    try:
        before = status(server)["rebuilds"]
        for path in project.rglob("*"):  # reads emit opened / closed-no-write events: no rebuild for those
            if path.is_file():
                path.read_bytes()
        notes = project / "streams" / "demo" / "notes.md"
        temp = notes.with_name(".notes.md.tmp-1234")  # an editor's atomic save: write a temporary file, rename it
        temp.write_text("Saved atomically.\n", encoding="utf-8")
        os.replace(temp, notes)
        events.next()
        after = status(server)
        assert after["rebuilds"] == before + 1 and not after["pending"]
        assert b"Saved atomically." in get(server.url + "streams/demo/")[1]
    finally:
        events.close()


@pytest.mark.slow
def test_a_burst_of_saves_rebuilds_once(project: Path, quiet_templates: Path) -> None:
    # a debounce longer than the default: ten saves on a loaded machine can be more than 150 ms apart,
    # which would rightly be two bursts; this test is about the burst, not the default's length
    server, _ = start(project, debounce=1.0)
    events = Events(server)
    try:
        before = status(server)["rebuilds"]
        notes = project / "streams" / "demo" / "notes.md"
        for i in range(10):
            notes.write_text(f"Save number {i}.\n", encoding="utf-8")
        events.next()
        after = status(server)
        assert after["rebuilds"] == before + 1
        assert not after["pending"] and not after["building"]  # nothing left queued: no second rebuild follows
        assert b"Save number 9." in get(server.url + "streams/demo/")[1]
    finally:
        events.close()
        server.stop()


@pytest.mark.slow
def test_only_the_changed_stream_is_recomputed(project: Path, quiet_templates: Path) -> None:
    shutil.copytree(project / "streams" / "demo", project / "streams" / "other")
    server, _ = start(project)
    events = Events(server)
    try:
        assert sorted(status(server)["computed"]) == ["demo", "other"]
        events_csv = project / "streams" / "other" / "data" / "events.csv"
        events_csv.write_text(events_csv.read_text().replace("2026-02-13T09", "2026-02-14T09"))
        events.next()
        state = status(server)
        assert state["computed"] == ["other"] and state["reused"] == ["demo"]
        assert "demo:data" not in state["rendered"] and "other:data" in state["rendered"]
        (project / "streams" / "other" / "notes.md").write_text("Other notes.\n", encoding="utf-8")
        events.next()
        state = status(server)  # notes are only rendered: nothing is computed, one page group rendered
        assert state["computed"] == [] and sorted(state["reused"]) == ["demo", "other"]
        assert state["rendered"] == ["other:overview"]
    finally:
        events.close()
        server.stop()


@pytest.mark.slow
def test_data_outside_the_stream_folder_is_watched(project: Path, quiet_templates: Path) -> None:
    """Inputs may live anywhere in the project; a missing export is seen once it is created."""
    shared = project / "shared"
    shared.mkdir()
    demo = project / "streams" / "demo"
    os.replace(demo / "data" / "events.csv", shared / "events.csv")
    edit(demo / "stream.yaml", "path: data/events.csv", "path: ../../shared/events.csv")
    server, _ = start(project)
    events = Events(server)
    try:
        assert events.first["ok"]
        text = (shared / "events.csv").read_text()
        (shared / "events.csv").write_text(text.replace("2026-02-13T09", "2026-02-14T09"))
        assert events.next()["ok"] and status(server)["computed"] == ["demo"]

        edit(demo / "stream.yaml", "path: data/items.csv", "path: ../../shared/exports/items.csv")
        state = events.next()
        assert not state["ok"] and "error[E122]" in state["error"]
        (shared / "exports").mkdir()
        shutil.copy(demo / "data" / "items.csv", shared / "exports" / "items.csv")
        while not state["ok"]:  # the folder's creation may start a build of its own before the file is there
            state = events.next()
        assert status(server)["computed"] == ["demo"]
    finally:
        events.close()
        server.stop()


@pytest.mark.slow
def test_a_broken_definition_keeps_the_last_good_site(served: tuple[DevServer, list[str]], project: Path) -> None:
    server, logs = served
    events = Events(server)
    try:
        good = get(server.url + "streams/demo/")[1]
        yaml_path = project / "streams" / "demo" / "stream.yaml"
        original = yaml_path.read_text(encoding="utf-8")
        edit(yaml_path, "kind: active", "kind: busy")
        state = events.next()
        assert not state["ok"] and LOCATED.search(state["error"]) and "hint:" in state["error"]
        code, body, _ = get(server.url + "streams/demo/")
        assert code == 200 and body == good  # the last good site, still served
        assert any(LOCATED.search(line) for line in logs)  # and the terminal got it

        yaml_path.write_text(original, encoding="utf-8")
        state = events.next()
        assert state["ok"] and state["error"] is None
    finally:
        events.close()


@pytest.mark.slow
def test_serves_under_a_base_path(project: Path, quiet_templates: Path) -> None:
    server, _ = start(project, base="/repo/")
    try:
        assert server.url.endswith("/repo/")
        assert get(server.url)[0] == 200
        assert get(server.url + "streams/demo/")[0] == 200
        assert get(server.origin + "/")[0] == 404  # outside the base: as on GitHub project pages
        assert get(server.origin + "/streams/demo/")[0] == 404
        assert get(server.origin + "/repo")[0] == 301
        code, body, _ = get(server.url + "missing/")
        assert code == 404 and b'href="/repo/"' in body  # 404.html links through the base
        assert get(server.origin + "/__vsm/status")[0] == 200
    finally:
        server.stop()


@pytest.mark.slow
def test_requests_during_rebuilds_never_fail(served: tuple[DevServer, list[str]], project: Path) -> None:
    server, _ = served
    events = Events(server)
    codes: list[int] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            codes.append(get(server.url + "streams/demo/")[0])

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for i in range(3):
            (project / "streams" / "demo" / "notes.md").write_text(f"Version {i} of the notes.\n", encoding="utf-8")
            assert events.next()["ok"]
    finally:
        done.set()
        thread.join()
        events.close()
    assert codes and set(codes) == {200}


@pytest.mark.slow
def test_polling_observer_sees_edits(project: Path, quiet_templates: Path) -> None:
    server, _ = start(project, poll=True)
    events = Events(server)
    try:
        (project / "streams" / "demo" / "notes.md").write_text("Seen by polling.\n", encoding="utf-8")
        assert events.next()["ok"]
        assert b"Seen by polling." in get(server.url + "streams/demo/")[1]
    finally:
        events.close()
        server.stop()


@pytest.mark.slow
def test_stops_cleanly(project: Path, quiet_templates: Path) -> None:
    server, _ = start(project)
    port = int(server.origin.rsplit(":", 1)[1])
    events = Events(server)
    server.stop()
    with pytest.raises(EOFError):  # the open event stream was closed by the server
        events.next()
    events.close()
    assert not server.observer.is_alive()
    assert not any(t.is_alive() for t in server._threads)
    assert not server.out.exists()  # the private site folder is removed
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_cli_serve_runs_and_stops_cleanly(project: Path, stop_signal: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--project", str(project), "--port", "0"],
        cwd=REPO, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("serving "):
                break
        url = re.search(r"http://127\.0\.0\.1:\d+/", "".join(lines))
        assert url, "".join(lines)
        assert get(url.group(0))[0] == 200
        proc.send_signal(stop_signal)
        _, rest = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, rest
        assert "stopped" in rest
        port = int(url.group(0).rstrip("/").rsplit(":", 1)[1])
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- in Chromium


@pytest.mark.slow
@pytest.mark.browser
def test_an_open_page_reloads_itself_after_a_save(served: tuple[DevServer, list[str]], project: Path, browser: Any) -> None:
    server, _ = served
    page = browser.new_page()
    try:
        page.goto(server.url + "streams/demo/")
        page.wait_for_function("() => document.querySelector('script[src=\"/__vsm/live.js\"]') !== null")
        page.evaluate("() => { window.vsmMarker = 'before'; }")
        page.wait_for_function("() => fetch('/__vsm/status').then(r => r.json()).then(s => s.clients > 0)")
        with page.expect_event("load", timeout=TIMEOUT * 1000):
            (project / "streams" / "demo" / "notes.md").write_text("Notes after the reload.\n", encoding="utf-8")
        assert page.evaluate("() => window.vsmMarker") is None  # a fresh document
        assert "Notes after the reload." in page.content()
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_an_open_page_shows_a_build_error_and_clears_it(served: tuple[DevServer, list[str]], project: Path, browser: Any) -> None:
    server, logs = served
    page = browser.new_page()
    try:
        page.goto(server.url + "streams/demo/")
        page.wait_for_function("() => fetch('/__vsm/status').then(r => r.json()).then(s => s.clients > 0)")
        yaml_path = project / "streams" / "demo" / "stream.yaml"
        original = yaml_path.read_text(encoding="utf-8")
        edit(yaml_path, "commitment: dev", "commitment: [dev")
        overlay = page.wait_for_selector("#vsm-error-overlay", state="visible", timeout=TIMEOUT * 1000)
        assert overlay is not None
        text = overlay.inner_text()
        assert re.search(r"streams/demo/stream\.yaml:\d+:\d+: error\[E1\d\d\]: ", text), text
        assert "hint:" in text
        assert page.title().startswith("Demo")  # the last good page stays under the overlay
        assert any("streams/demo/stream.yaml:" in line for line in logs)

        yaml_path.write_text(original, encoding="utf-8")
        page.wait_for_selector("#vsm-error-overlay", state="detached", timeout=TIMEOUT * 1000)
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_the_open_page_is_rendered_first_and_the_rest_follows(served: tuple[DevServer, list[str]], project: Path, browser: Any) -> None:
    """A recomputing edit while a page is open: the first pass renders that page's unit and leaves the
    others (render/memo.py focus), the open page reloads, and a second pass renders the rest, so every
    page the server then gives is the new one (checked over HTTP against the edit)."""
    server, logs = served
    page = browser.new_page()
    try:
        page.goto(server.url + "streams/demo/")
        page.wait_for_function("() => fetch('/__vsm/status').then(r => r.json()).then(s => s.clients > 0 && !s.building)")
        with page.expect_event("load", timeout=TIMEOUT * 1000):
            edit(project / "streams" / "demo" / "stream.yaml", "name: Demo", "name: Demo first")
        assert "Demo first" in page.title()
        state = idle(server)
        assert state["computed"] == ["demo"]
        assert "demo:items" in state["rest"] and "demo:overview" not in state["rest"]  # the open page came first
        assert set(state["rest"]) <= set(state["rendered"])
        assert any("more after the open pages" in line for line in logs)
        deadline = time.monotonic() + TIMEOUT  # the second pass logs just after it says it is done
        while not any(line.startswith("rendered the other") for line in logs):
            assert time.monotonic() < deadline, logs
            time.sleep(0.05)
        for other in ("streams/demo/items/", "streams/demo/trends/", "index.html"):
            assert b"Demo first" in get(server.url + other)[1], other
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_whose_file_did_not_change_does_not_reload(served: tuple[DevServer, list[str]], project: Path, browser: Any) -> None:
    """Each open page hears the generation of its own file: a notes edit changes the overview only, so
    the overview reloads and an open items page keeps its document (its marker survives)."""
    server, _ = served
    overview, items = browser.new_page(), browser.new_page()
    try:
        overview.goto(server.url + "streams/demo/")
        items.goto(server.url + "streams/demo/items/")
        for p in (overview, items):
            p.evaluate("() => { window.vsmMarker = 'before'; }")
        overview.wait_for_function("() => fetch('/__vsm/status').then(r => r.json()).then(s => s.clients >= 2 && !s.building)")
        with overview.expect_event("load", timeout=TIMEOUT * 1000):
            (project / "streams" / "demo" / "notes.md").write_text("Only the overview shows this.\n", encoding="utf-8")
        assert overview.evaluate("() => window.vsmMarker") is None and "Only the overview shows this." in overview.content()
        assert idle(server)["rendered"] == ["demo:overview"]
        items.wait_for_timeout(500)  # a reload would have started by now
        assert items.evaluate("() => window.vsmMarker") == "before"
    finally:
        overview.close()
        items.close()


@pytest.mark.slow
def test_a_site_that_cannot_be_written_is_a_located_error_not_a_bug(served: tuple[DevServer, list[str]], project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk under the server's private folder: E400 with its hint, the last good site still
    served, and the next save after the disk has room builds again."""
    import errno

    import generator.build as build_module
    from generator.write import SiteWriteError

    server, logs = served
    real = build_module.write_site

    def full(files: Any, out: Path, previous: Any = None) -> Any:
        raise SiteWriteError(out, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(build_module, "write_site", full)
    events = Events(server)
    try:
        (project / "streams" / "demo" / "notes.md").write_text("Never written.\n", encoding="utf-8")
        state = events.next()
        assert not state["ok"]
        assert "error[E400]: cannot write the site" in state["error"] and "No space left on device" in state["error"]
        assert "internal error" not in state["error"] and "hint: free space" in state["error"]
        assert not any("Traceback" in line for line in logs)
        assert b"Never written." not in get(server.url + "streams/demo/")[1]  # the last good site
        monkeypatch.setattr(build_module, "write_site", real)
        (project / "streams" / "demo" / "notes.md").write_text("Written after all.\n", encoding="utf-8")
        assert events.next()["ok"]
        assert b"Written after all." in get(server.url + "streams/demo/")[1]
    finally:
        events.close()
