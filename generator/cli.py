"""The command line: the arguments of each command, what it runs and its exit code
(with console.py, the only modules that print)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from generator import __version__, console


def _cmd_build(args: argparse.Namespace) -> int:
    from generator.build import BuildOptions, build
    from generator.write import SiteWriteError

    project = Path(args.project).resolve()
    out = Path(args.out).resolve() if args.out else project / "_site"
    options = BuildOptions(
        project=project,
        out=out,
        strict=args.strict,
        base_url=args.base_url,
        privacy=True if args.private else None,
        noindex=True if args.noindex else None,
        cache=not args.no_cache,
        engine=args.engine,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    progress, bar = console.progress(not args.quiet)
    try:
        report = build(options, progress)
    except SiteWriteError as exc:
        code = "E400"
        print(
            f"{exc.out}: error[{code}]: cannot write the site: {exc.reason}; the previous site is unchanged\n"
            "  hint: check that the folder is writable and the disk has room, or pass --out elsewhere",
            file=sys.stderr,
        )
        return 1
    finally:
        if bar is not None:
            bar.stop()
    if report.problems:
        print(console.problems_text(report.problems), file=sys.stderr)
    print(console.summary(report, "build"), file=sys.stderr)
    if report.written:
        print(f"site: {out / 'index.html'}", file=sys.stderr)
    if report.errors:
        return 1
    if args.strict and report.warnings:
        print("--strict: warnings count as failure", file=sys.stderr)
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from generator.build import BuildOptions, check

    report = check(BuildOptions(project=Path(args.project).resolve(), out=Path(".")))
    if report.problems:
        print(console.problems_text(report.problems), file=sys.stderr)
    print(console.summary(report, "check"), file=sys.stderr)
    if report.errors or (args.strict and report.warnings):
        return 1
    return 0


# ---------------------------------------------------------------- vsm serve, vsm new (serve.py, scaffold.py)


def _cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from generator.serve import DevServer, ServeOptions

    project = Path(args.project).resolve()
    server = DevServer(
        ServeOptions(project=project, port=args.port, poll=args.poll, base=args.base),
        log=lambda text: print(text, file=sys.stderr, flush=True),
    )
    in_main = threading.current_thread() is threading.main_thread()
    previous = (
        signal.signal(signal.SIGTERM, lambda signum, frame: server.request_stop())
        if in_main
        else None
    )
    try:
        try:
            server.start()
        except OSError as exc:
            if server.httpd is None:
                print(
                    f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}\n  hint: another program uses the port; pass --port N (0 picks a free one)",
                    file=sys.stderr,
                )
            else:
                print(
                    f"error: cannot watch the project's files: {exc.strerror or exc}\n  hint: pass --poll to poll for changes instead (or raise fs.inotify.max_user_watches)",
                    file=sys.stderr,
                )
            return 1
        print(
            f"serving {server.url} (watching {project}; Ctrl-C to stop)",
            file=sys.stderr,
            flush=True,
        )
        while not server.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    print("stopped", file=sys.stderr, flush=True)
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from generator.scaffold import kinds, new_stream

    if args.kind is not None and args.kind not in kinds():
        from difflib import get_close_matches

        close = get_close_matches(args.kind, kinds(), n=1, cutoff=0.5)
        print(
            f"vsm new: error: unknown source kind '{args.kind}'\n  hint: {f'did you mean {close[0]!r}? ' if close else ''}known kinds: {', '.join(kinds())}",
            file=sys.stderr,
        )
        return 2
    if args.input is not None and args.kind is None:
        print(
            "vsm new: error: --input needs --from KIND\n  hint: e.g. vsm new checkout --from jira-json --input export.json",
            file=sys.stderr,
        )
        return 2
    project = Path(args.project).resolve()
    created, problems = new_stream(
        project, args.stream_id, args.kind, Path(args.input).resolve() if args.input else None
    )
    if problems:
        print(console.problems_text(problems), file=sys.stderr)
        return 1
    print("created:\n" + "\n".join(f"  {path}" for path in created), file=sys.stderr)
    print(
        f"next: edit streams/{args.stream_id}/stream.yaml, then `vsm check` and `vsm serve`",
        file=sys.stderr,
    )
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    import yaml

    from generator.importer import import_source

    options: dict[str, object] = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            print(f"error: --option needs key=value, got {item!r}", file=sys.stderr)
            return 2
        options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    result = import_source(
        args.kind, Path(args.input), Path(args.out), options, args.timezone, args.format
    )
    if result.problems:
        print(console.problems_text(result.problems), file=sys.stderr)
    if any(p.severity == "error" for p in result.problems):
        print("nothing written", file=sys.stderr)
        return 1
    for name, rows in result.written.items():
        print(f"wrote {Path(args.out) / name} ({rows:,} rows)", file=sys.stderr)
    skipped = {k: v for k, v in result.skipped.items() if v}
    for reason, count in skipped.items():
        print(f"skipped {count:,}: {reason}", file=sys.stderr)
    if not result.written:
        print("nothing to write: the input holds no records", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="vsm",
        description="Value stream reports as code: build a static site from stream definitions and tracker exports.",
    )
    top.add_argument("--version", action="version", version=f"vsm {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser(
        "build",
        help="build the site",
        description="Build the static site from streams/ into the output folder.",
    )
    b.add_argument(
        "--project",
        default=".",
        metavar="DIR",
        help="the folder holding streams/ (default: current folder)",
    )
    b.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default: _site inside the project)",
    )
    b.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="the site's public URL (enables sitemap.xml and canonical links)",
    )
    b.add_argument(
        "--strict", action="store_true", help="treat warnings as failure (exit 1, nothing written)"
    )
    b.add_argument(
        "--private",
        action="store_true",
        help="hide item titles, tracker links and actors everywhere",
    )
    b.add_argument(
        "--noindex", action="store_true", help="ask search engines not to index the pages"
    )
    b.add_argument(
        "--no-cache",
        action="store_true",
        help="read and compute every stream again, ignoring .vsm-cache/",
    )
    b.add_argument(
        "--engine",
        choices=("pandas", "dask"),
        default=None,
        help="what computes the metrics: pandas in this process (the default), or dask on a "
        "cluster (docs/scale.md); default: vsm.yaml's engine",
    )
    b.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="dask: a running scheduler, e.g. tcp://10.0.0.5:8786 (default: vsm.yaml's, else a "
        "local cluster of worker processes on 127.0.0.1)",
    )
    b.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="dask, local cluster: worker processes (default: vsm.yaml's, else one per core)",
    )
    b.add_argument("--quiet", action="store_true", help="no progress output")
    b.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    b.set_defaults(func=_cmd_build)

    c = sub.add_parser(
        "check",
        help="validate definitions and data without building",
        description="Validate every stream definition and data file; write nothing.",
    )
    c.add_argument(
        "--project",
        default=".",
        metavar="DIR",
        help="the folder holding streams/ (default: current folder)",
    )
    c.add_argument("--strict", action="store_true", help="treat warnings as failure")
    c.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    c.set_defaults(func=_cmd_check)

    s = sub.add_parser(
        "serve",
        help="build, serve on 127.0.0.1, rebuild on every save and reload open pages",
        description="Build the site, serve it on http://127.0.0.1:PORT/, watch definitions, data, notes, reports and templates, "
        "rebuild only the streams whose inputs changed and reload open pages. A failed build keeps the last good site and shows the error on the page.",
    )
    s.add_argument(
        "--project",
        default=".",
        metavar="DIR",
        help="the folder holding streams/ (default: current folder)",
    )
    s.add_argument(
        "--port",
        type=int,
        default=8000,
        metavar="N",
        help="port on 127.0.0.1 (default: 8000; 0 picks a free one)",
    )
    s.add_argument(
        "--poll",
        action="store_true",
        help="poll for changes instead of OS file events (network drives, containers, WSL)",
    )
    s.add_argument(
        "--base",
        default="/",
        metavar="/REPO/",
        help="serve the site under this path, like GitHub project pages (default: /)",
    )
    s.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    s.set_defaults(func=_cmd_serve)

    n = sub.add_parser(
        "new",
        help="scaffold a stream folder with a commented stream.yaml",
        description="Create streams/STREAM_ID/ with a commented stream.yaml, notes.md, reports/ and example data; never overwrites.",
    )
    n.add_argument(
        "stream_id",
        metavar="STREAM_ID",
        help="the new stream's id: lowercase letters, digits and '-', starting with a letter",
    )
    n.add_argument(
        "--from",
        dest="kind",
        default=None,
        metavar="KIND",
        help="the source kind the stream reads (e.g. jira-json, github-issues); default: canonical events-csv and items-csv with example rows",
    )
    n.add_argument(
        "--input",
        default=None,
        metavar="PATH",
        help="with --from: an export to copy into the stream's data/ (for jira-json, stages are proposed from its status categories)",
    )
    n.add_argument(
        "--project",
        default=".",
        metavar="DIR",
        help="the folder holding streams/ (default: current folder)",
    )
    n.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    n.set_defaults(func=_cmd_new)
    i = sub.add_parser(
        "import",
        help="convert an export into the canonical CSV files",
        description="Read INPUT as a source KIND (e.g. jira-json, github-issues, git-history) and write the canonical CSV files "
        "(events.csv, items.csv, deployments.csv, incidents.csv, changes.csv) into DIR.",
    )
    i.add_argument("kind", metavar="KIND", help="a source kind from docs/sources.md")
    i.add_argument(
        "input",
        metavar="INPUT",
        help="the export file or folder (or a git repository for git-history)",
    )
    i.add_argument(
        "-o", "--out", required=True, metavar="DIR", help="folder to write the CSV files into"
    )
    i.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="a source option, as in stream.yaml (repeatable)",
    )
    i.add_argument(
        "--timezone",
        default="UTC",
        metavar="TZ",
        help="IANA zone for timestamps without an offset (default UTC)",
    )
    i.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="csv (default), or parquet: events and items as events.parquet and items.parquet "
        "(read by events-parquet and items-parquet)",
    )
    i.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    i.set_defaults(func=_cmd_import)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "command", None):
        parser().print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error, not bad input
        if getattr(args, "debug", False) or os.environ.get("VSM_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n  hint: this is a bug in vsm; rerun with --debug and report the traceback",
            file=sys.stderr,
        )
        return 3
