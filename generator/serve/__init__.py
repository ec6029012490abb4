"""`vsm serve`: build, serve on 127.0.0.1, watch what the streams read, rebuild what changed, reload open pages.

Four kinds of threads: the HTTP server (a thread per request; Server-Sent
Events clients hold theirs open), the watchdog observer, and one builder that
waits for a quiet moment after the last relevant file event (debounce), then
rebuilds through the build cache, so only streams whose inputs changed are read
and computed again. With pages open, a rebuild renders the units that write
them first (render/memo.py `focus`), publishes, then renders the rest; each
page reloads only when its own file changed. The site is built into a private
folder that write_site swaps atomically (unchanged files hard-linked); the last good site stays served while a build fails, and the
located error goes to the log and, as an overlay, to every open page. The
reload script is added to HTML responses by the server, never to the built site.

The package: server.py (DevServer: lifecycle, watching, building), watch.py
(which file events count), handler.py (HTTP), live.py (the live-reload script
and broadcast).
"""

from __future__ import annotations

from generator.serve.server import DevServer, ServeOptions, normalize_base

__all__ = ["DevServer", "ServeOptions", "normalize_base"]
