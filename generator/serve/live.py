"""The live-reload channel of `vsm serve`: the script added to served pages and the event broadcast.

Pages connect to /__vsm/events?page=<their file> (Server-Sent Events); every
build publishes its state there: the generation that last changed each open
page's file (a page whose file changed since it was served reloads; the others
stay as they are), the site's generation (for a page that is no file of the
site: 404, no site yet) and the error text of a failed build (an overlay).
The server renders the open pages first after an edit (render/memo.py `focus`).
"""

from __future__ import annotations

import queue
import threading

LIVE = "/__vsm/"
IMMUTABLE = "public, max-age=31536000, immutable"
LIVE_JS = r"""(function () {
  var me = document.currentScript, seen = Number(me.dataset.generation), page = me.dataset.page || "";
  var source = new EventSource("/__vsm/events" + (page ? "?page=" + encodeURIComponent(page) : ""));
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
    var now = page && state.pages && page in state.pages ? state.pages[page] : state.generation;
    if (now !== seen) { source.close(); location.reload(); return; }
    show(state.error);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
"""

NO_SITE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vsm serve: no site yet</title></head>
<body><h1>No site yet</h1><p>The first build failed; the error is shown below and in the terminal.
This page reloads by itself once the build succeeds.</p></body></html>
"""


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
