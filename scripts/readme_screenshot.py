"""Refresh the README's screenshots (docs/images/) from a build of the examples: `make screenshots`.

Serves the built site on 127.0.0.1 and photographs the home page and the
development stream's map with Debian's chromium through Playwright.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SHOTS = {"home.png": ("", 1280, 900), "map.png": ("streams/development/", 1280, 1100)}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_site"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, (path, width, height) in SHOTS.items():
            page = browser.new_page(viewport={"width": width, "height": height}, color_scheme="light")
            page.goto(f"http://127.0.0.1:{port}/{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / name))
            page.close()
        browser.close()
    server.shutdown()
    print(f"wrote {', '.join(SHOTS)} to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
