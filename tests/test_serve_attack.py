"""`vsm serve` under attack and load: it listens on 127.0.0.1 only, leaks nothing outside the built
site whatever the path (`..`, `%2e%2e`, encoded slashes, absolute paths, NUL), answers malformed
and oversized requests with 4xx and keeps serving, serves a few hundred concurrent requests, and
keeps the last good site (with the error for the overlay) after a broken edit.

A secret file is planted beside the output folder and in the project: no response may contain it.
Request counts are printed for docs/reliability.md (run with -s).
"""

from __future__ import annotations

import json
import shutil
import socket
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import generator.serve.server as serve_module
from generator.serve import DevServer, ServeOptions

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation" / "project"
SECRET = b"TOP-SECRET-7f3a9c"
TIMEOUT = 60


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DevServer, Path]]:
    project = tmp_path / "proj"
    shutil.copytree(FOUNDATION, project)
    (project / "secret.txt").write_bytes(SECRET)
    templates = tmp_path / "templates"
    templates.mkdir()
    monkeypatch.setattr(serve_module, "TEMPLATES", templates)  # do not watch colleagues' edits
    server = DevServer(ServeOptions(project=project, port=0), log=lambda text: None)
    server.start()
    (server.out.parent / "secret.txt").write_bytes(SECRET)
    try:
        yield server, project
    finally:
        server.stop()


def raw(server: DevServer, request: bytes, read: int = 1 << 20) -> bytes:
    """Send bytes as they are (no client-side normalising of the path) and read the answer."""
    host, port = server.httpd.server_address[:2]  # type: ignore[union-attr]
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) >= read:
                break
    return b"".join(chunks)


def status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0


def get(server: DevServer, path: str) -> bytes:
    return raw(server, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())


def test_listens_on_loopback_only(served: tuple[DevServer, Path]) -> None:
    server, _ = served
    assert server.httpd is not None and server.httpd.server_address[0] == "127.0.0.1"
    # another address of this machine, when it has one, must not answer
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        other = probe.getsockname()[0]
    except OSError:
        other = "127.0.0.1"
    finally:
        probe.close()
    if other.startswith("127."):
        return  # no other interface to try
    with pytest.raises(OSError):
        socket.create_connection((other, server.httpd.server_address[1]), timeout=5).close()


TRAVERSALS = [
    "/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/.%2e/secret.txt",
    "/streams/../../secret.txt", "/streams/%2e%2e/%2e%2e/secret.txt", "/%2e%2e%5csecret.txt",
    "/..\\secret.txt", "//etc/passwd", "/%2fetc%2fpasswd", "/etc/passwd", "/%00", "/index.html%00.txt",
    "/..%252fsecret.txt", "/%c0%ae%c0%ae/secret.txt", "http://127.0.0.1/../secret.txt",
    "/../../../../../../etc/passwd", "/" + "../" * 50 + "etc/passwd", "/_site/../secret.txt",
    "/../proj/secret.txt", "/../../proj/secret.txt", "/./././secret.txt", "/streams/demo/../../../secret.txt",
]


def test_no_path_leaks_anything_outside_the_site(served: tuple[DevServer, Path]) -> None:
    server, _ = served
    passwd = Path("/etc/passwd").read_bytes()[:20] if Path("/etc/passwd").exists() else b"root:x:0:0"
    codes = {}
    for path in TRAVERSALS:
        response = get(server, path)
        codes[path] = status(response)
        assert SECRET not in response, path
        assert passwd not in response, path
        assert codes[path] in (400, 404), (path, response[:200])
    # and the site itself is still served
    assert status(get(server, "/index.html")) == 200
    print(f"\n{len(TRAVERSALS)} traversal attempts: {sorted(set(codes.values()))}")


MALFORMED = [
    b"\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET / FTP/1.0\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\n\r\n",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    b"DELETE /index.html HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",  # a request line over 64 KiB
    b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",  # more than 100 headers
    b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n",  # a header line over 64 KiB
]


def test_malformed_and_oversized_requests_get_4xx_and_serving_goes_on(served: tuple[DevServer, Path]) -> None:
    server, _ = served
    seen = []
    for request in MALFORMED:
        response = raw(server, request, read=4096)
        code = status(response)
        seen.append(code)
        # 4xx (or 501 for a method it does not serve); a closed connection; or, for a valid
        # request line whose odd headers or body a GET ignores, the page GET / asked for
        assert code in (0, 200, 501) or 400 <= code < 500, (request[:60], response[:200])
        assert code != 200 or request.startswith(b"GET / HTTP/1.1\r\n"), request[:60]
        assert SECRET not in response
    # a connection that sends half a request and goes away, and one that sends nothing
    host, port = server.httpd.server_address[:2]  # type: ignore[union-attr]
    for partial in (b"GET /index.ht", b""):
        with socket.create_connection((host, port), timeout=TIMEOUT) as s:
            s.sendall(partial)
    assert status(get(server, "/index.html")) == 200
    print(f"\n{len(MALFORMED)} malformed requests: {seen}")


@pytest.mark.slow
def test_a_few_hundred_concurrent_requests_are_all_served(served: tuple[DevServer, Path]) -> None:
    server, _ = served
    pages = ["/", "/streams/demo/", "/streams/demo/quality/", "/404-nope", "/../secret.txt", "/static/site.css"]
    expected = {p: status(get(server, p)) for p in pages}
    assert expected["/"] == 200 and expected["/../secret.txt"] == 400

    def one(i: int) -> tuple[str, int, bool]:
        path = pages[i % len(pages)]
        response = get(server, path)
        return path, status(response), SECRET in response

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=300) as pool:
        results = list(pool.map(one, range(600)))
    seconds = time.monotonic() - start
    assert [r for r in results if r[1] != expected[r[0]] or r[2]] == []
    assert status(get(server, "/index.html")) == 200
    print(f"\n600 requests from 300 concurrent clients in {seconds:.1f} s, all answered as expected")


def wait_state(server: DevServer, ok: bool, timeout: float = 120) -> dict[str, object]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with urllib.request.urlopen(server.origin + "/__vsm/status", timeout=TIMEOUT) as resp:
            state = json.loads(resp.read())
        if state.get("ok") is ok and not state.get("building"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no state ok={ok} after {timeout} s: {state}")


def test_a_broken_data_file_keeps_the_last_good_site_with_the_error(served: tuple[DevServer, Path]) -> None:
    server, project = served
    good = get(server, "/streams/demo/")
    assert status(good) == 200
    events = project / "streams" / "demo" / "data" / "events.csv"
    original = events.read_bytes()
    events.write_bytes(b"item_id,time\xfdstamp,state\n" + original.split(b"\n", 1)[1])
    state = wait_state(server, ok=False)
    assert "streams/demo/data/events.csv:1:13: error[E200]" in str(state["error"])
    again = get(server, "/streams/demo/")
    body = lambda r: r.split(b"\r\n\r\n", 1)[1]  # noqa: E731
    assert status(again) == 200 and body(again) == body(good)  # the last good site, with the overlay script
    assert b"/__vsm/live.js" in body(again)
    events.write_bytes(original)
    wait_state(server, ok=True)
