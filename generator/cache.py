"""The build cache: a stream's computed StreamMetrics, reused while everything it came from is byte for byte the same.

Reading and computing are the expensive part of a build, so each stream's
result is kept in `<project>/.vsm-cache/streams/<id>.pickle` under a key made of
content hashes (sha256), never of modification times:

- the stream's `stream.yaml` and the project's `vsm.yaml` (not `notes.md` or `reports/*.md`:
  they are only rendered, never computed from, so editing them reuses the metrics);
- every input file the stream's sources read (`StreamData.inputs`), the listing of
  every folder a source option names (a new export in a jira-json folder counts),
  and, for a git repository, its refs and HEAD (commits are immutable, refs name them);
- `generator.__version__`, a hash of the `generator/` package's files, and the
  versions of Python and the libraries that compute (a code change invalidates everything).

`vsm serve` also keeps each entry in memory (`memory=True`): an unchanged stream
is then handed back as the very same object, without unpickling, and the
renderer's memo (render/memo.py) knows its pages are unchanged too.

An entry is a magic line, a JSON header (key, input digests, payload digest)
and the pickled payload. Any entry that cannot be read, does not match or fails
its digest is a miss and is recomputed, so `.vsm-cache/` is always safe to delete.
The pickles are the project's own, written by this module; never copy a
`.vsm-cache/` from someone you do not trust.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import generator
from generator.metrics.stream import StreamMetrics
from generator.model import StreamConfig, StreamData
from generator.presentation import computed_from

CACHE_DIR = ".vsm-cache"
MAGIC = b"vsm-cache 1\n"
_LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "pydantic", "PyYAML")
# pandas before 3.0 does not copy on write: a shallow copy would share what computing changes
_DEEP_COPIES = int(pd.__version__.split(".")[0]) < 3


@dataclass
class CachedStream:
    """What a build needs of a stream it does not recompute: its metrics and the counts of its summary row."""

    metrics: StreamMetrics
    items: int
    events: int


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 of every file of the generator package (path and bytes) but the site templates, plus the versions of what computes."""
    h = hashlib.sha256()
    package = Path(generator.__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if (
            path.is_file()
            and "__pycache__" not in path.parts
            # only rendered: a template edit keeps the metrics
            and "site_templates" not in path.parts
            and path.suffix not in (".pyc", ".pyo")
        ):
            h.update(
                path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
            )
    h.update(f"vsm {generator.__version__}; python {sys.version}".encode())
    for name in _LIBRARIES:
        try:
            h.update(f"; {name} {metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"; {name} -".encode())
    return h.hexdigest()


class Digests:
    """Content digests of files, remembered while a file's stat signature holds.

    The digest is always of the bytes; the stat signature only saves re-reading
    a file within one process. `vsm serve` also drops the entries of every path
    the watcher reports (`forget`), so an edit is never missed.
    """

    def __init__(self) -> None:
        self._memo: dict[Path, tuple[tuple[int, ...], str]] = {}
        self._lock = threading.Lock()

    def file(self, path: Path) -> str | None:
        """The sha256 of the file's bytes, or None when it is missing or unreadable."""
        try:
            st = path.stat()
            signature = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            with self._lock:
                known = self._memo.get(path)
            if known is not None and known[0] == signature:
                return known[1]
            h = hashlib.sha256()
            with path.open("rb") as f:
                for chunk in iter(functools.partial(f.read, 1 << 20), b""):
                    h.update(chunk)
        except OSError:
            return None
        digest = h.hexdigest()
        with self._lock:
            self._memo[path] = (signature, digest)
        return digest

    def forget(self, paths: Iterable[Path]) -> None:
        """Drop what is remembered about these paths and everything under them."""
        with self._lock:
            for gone in paths:
                for known in [p for p in self._memo if p == gone or gone in p.parents]:
                    del self._memo[known]


def _git_fingerprint(repo: Path) -> str | None:
    """HEAD, every ref and the shallow boundary: what `git log --branches --tags --remotes HEAD` depends on."""
    parts = []
    for args in (
        ["rev-parse", "--verify", "-q", "HEAD"],
        ["for-each-ref", "--format=%(objectname) %(refname)"],
        ["rev-parse", "--git-dir"],
    ):
        try:
            run = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if run.returncode != 0 and args[0] != "rev-parse":
            return None
        parts.append(run.stdout)
    shallow = Path(repo, parts[2].decode().strip(), "shallow")
    parts.append(shallow.read_bytes() if shallow.is_file() else b"")
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


class BuildCache:
    """Per-stream cache of computed metrics in `<project>/.vsm-cache/`; counts hits (`reused`) and misses."""

    def __init__(
        self,
        project: Path,
        enabled: bool = True,
        digests: Digests | None = None,
        memory: bool = False,
    ) -> None:
        self.root = project.resolve()
        self.enabled = enabled
        self.folder = self.root / CACHE_DIR / "streams"
        self.digests = digests or Digests()
        # stream id -> (key, input digests, result): vsm serve's entries, kept as objects
        self.memory: dict[str, tuple[str, dict[str, str], CachedStream]] | None = (
            {} if memory else None
        )
        # stream id -> (read key, input digests, data as read): vsm serve's, see `read`
        self.reads: dict[str, tuple[str, dict[str, str], StreamData]] = {}

    # ------------------------------------------------------------ keys

    def _bytes_digest(self, path: Path) -> str:
        return self.digests.file(path) or "-"

    def stream_key(self, config: StreamConfig) -> str:
        """What the stream is, apart from its data: definition, project settings, code.

        The definition is the validated stream.yaml, not its bytes, without what pages
        only show (generator/presentation.py: the description, owner, process events,
        WIP limits and most targets): comments, layout and those fields do not
        recompute a stream. Every message a computation gives about stream.yaml
        names the file without a line, so none of them goes stale either. Notes and
        reports are not part of it: metrics are never computed from them (a report's own
        period is computed while rendering, by `period_for`)."""
        parts = [code_digest(), config.id, config.folder]
        definition = computed_from(config.definition)
        parts += [f"stream.yaml={hashlib.sha256(definition.encode()).hexdigest()}"]
        parts += [f"vsm.yaml={self._bytes_digest(self.root / 'vsm.yaml')}"]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _input_digest(self, rel: str) -> str | None:
        path = self.root / rel
        if path.is_file():
            return self.digests.file(path)
        if (path / ".git").exists():
            fingerprint = _git_fingerprint(path)
            return None if fingerprint is None else "git:" + fingerprint
        if path.is_dir():
            names = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
            return "dir:" + hashlib.sha256("\n".join(names).encode()).hexdigest()
        return None

    def _inputs(self, config: StreamConfig, read: Iterable[str]) -> dict[str, str] | None:
        """Digest of every file read and of every folder a source option names; None when one cannot be had."""
        paths = set(read)
        for options in config.sources:
            for name in getattr(type(options), "path_fields", ("path",)):
                value = getattr(options, name, None)
                if value is not None and (self.root / config.folder / str(value)).is_dir():
                    paths.add(_rel(self.root / config.folder / str(value), self.root))
        out: dict[str, str] = {}
        for rel in sorted(paths):
            digest = self._input_digest(rel)
            if digest is None:
                return None
            out[rel] = digest
        return out

    # ------------------------------------------------------------ data as read (vsm serve)

    def read_key(self, config: StreamConfig) -> str:
        """What reading a stream depends on besides its input files: its folder, sources, time zone and the code."""
        parts = [code_digest(), config.folder, config.timezone]
        parts += [options.model_dump_json() for options in config.sources]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def read(
        self, config: StreamConfig, reader: Callable[[], StreamData], most_events: int
    ) -> StreamData:
        """The stream's data: `reader()`, or (vsm serve, `memory=True`) what it gave last time
        while the sources, the time zone and every input file are unchanged, so an edit of
        stages, periods, forecasts or scenarios recomputes without reading the files again.
        Kept only up to `most_events` events (the raw frames are the build's largest);
        each call gets frames of its own, as computing may add columns to them."""
        if self.memory is None:
            return reader()
        key = self.read_key(config)
        known = self.reads.pop(config.id, None)
        if (
            known is not None
            and known[0] == key
            and all(self._input_digest(rel) == digest for rel, digest in known[1].items())
        ):
            data = known[2]
        else:
            data = reader()
        digests = self._inputs(config, data.inputs)
        if digests is not None and len(data.events) <= most_events:
            self.reads[config.id] = (key, digests, data)
        return _own_copy(data)

    # ------------------------------------------------------------ entries

    def lookup(self, config: StreamConfig) -> CachedStream | None:
        """The stored result when the stream and all its inputs are unchanged; None otherwise (or on any damage)."""
        if self.memory is not None and config.id in self.memory:
            key, digests, kept = self.memory[config.id]
            if key == self.stream_key(config) and all(
                self._input_digest(rel) == digest for rel, digest in digests.items()
            ):
                kept.metrics.config = config  # equal by the key, as below
                return kept
            del self.memory[config.id]
        if not self.enabled:
            return None
        try:
            blob = (self.folder / f"{config.id}.pickle").read_bytes()
            header, payload = _split(blob)
            if header.get("key") != self.stream_key(config):
                return None
            inputs = header.get("inputs")
            if not isinstance(inputs, dict) or any(
                self._input_digest(rel) != digest for rel, digest in inputs.items()
            ):
                return None
            if header.get("payload") != hashlib.sha256(payload).hexdigest():
                return None
            metrics, closure, items, events = pickle.loads(payload)
            if not isinstance(metrics, StreamMetrics):
                return None
            metrics.period_for = _restore(closure)
            metrics.config = (
                config  # equal by the key; the fresh one is what the rest of the build holds
            )
            return CachedStream(metrics, int(items), int(events))
        except Exception:  # a damaged, foreign or outdated entry is just a miss
            return None

    def store(
        self, config: StreamConfig, cached: CachedStream, inputs: Iterable[str], disk: bool = True
    ) -> bool:
        """Keep the result for the next build (in memory too when asked, on disk unless `disk` is False).

        False when nothing was written to disk: disabled, too large, or not safely cacheable."""
        if not self.enabled and self.memory is None:
            return False
        digests = self._inputs(config, inputs)
        if digests is None:
            return False
        if self.memory is not None:
            self.memory[config.id] = (self.stream_key(config), digests, cached)
        if not self.enabled or not disk:
            return False
        metrics = cached.metrics
        period_for, closure = metrics.period_for, _closure(metrics.period_for)
        try:
            metrics.period_for = None
            payload = pickle.dumps(
                (metrics, closure, cached.items, cached.events), protocol=pickle.HIGHEST_PROTOCOL
            )
        except Exception:
            return False
        finally:
            metrics.period_for = period_for
        header = {
            "key": self.stream_key(config),
            "inputs": digests,
            "payload": hashlib.sha256(payload).hexdigest(),
        }
        head = json.dumps(header, sort_keys=True).encode()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{config.id}.", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(MAGIC + head + b"\n" + payload)
                os.replace(tmp, self.folder / f"{config.id}.pickle")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:  # a read-only project still builds, just without a cache
            return False
        return True


def _own_copy(data: StreamData) -> StreamData:
    """New frame objects (over the same columns where pandas copies on write, from 3.0) and new lists."""

    def frame(f: Any) -> Any:
        return None if f is None else f.copy(deep=_DEEP_COPIES)

    return replace(
        data,
        events=frame(data.events),
        items=frame(data.items),
        deployments=frame(data.deployments),
        changes=frame(data.changes),
        incidents=frame(data.incidents),
        problems=list(data.problems),
        skipped=dict(data.skipped),
        notes=dict(data.notes),
        inputs=list(data.inputs),
    )


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _split(blob: bytes) -> tuple[dict[str, Any], bytes]:
    if not blob.startswith(MAGIC):
        raise ValueError("not a cache entry")
    head, _, payload = blob[len(MAGIC) :].partition(b"\n")
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ValueError("bad header")
    return header, payload


# `StreamMetrics.period_for` is a closure over the stream's prepared frames (reports ask it for their
# own periods). Closures do not pickle, so the cache keeps the function's qualified name and the
# values it closes over, and rebuilds it from the same code object: the code hash in the key
# guarantees the code is the one that made the entry. A plain picklable callable is kept as it is.


def _closure(fn: Any) -> Any:
    if fn is None:
        return None
    if isinstance(fn, types.FunctionType) and fn.__closure__ is not None:
        code = fn.__code__
        return (
            "closure",
            fn.__module__,
            (code.co_qualname, code.co_firstlineno, code.co_freevars),
            [c.cell_contents for c in fn.__closure__],
        )
    return ("callable", fn)


def _restore(saved: Any) -> Any:
    if saved is None:
        return None
    if saved[0] == "callable":
        return saved[1]
    _, module_name, identity, values = saved
    module = sys.modules[module_name]
    code = _find_code(module, tuple(identity))
    if code is None or len(code.co_freevars) != len(values):
        raise LookupError(identity)
    return types.FunctionType(
        code, module.__dict__, code.co_name, None, tuple(types.CellType(v) for v in values)
    )


def _find_code(module: types.ModuleType, identity: tuple[Any, ...]) -> types.CodeType | None:
    """The code object with this (qualified name, first line, free variables) among the module's functions."""
    stack = [
        obj.__code__
        for obj in vars(module).values()
        if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__
    ]
    while stack:
        code = stack.pop()
        if (code.co_qualname, code.co_firstlineno, tuple(code.co_freevars)) == identity:
            return code
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return None
