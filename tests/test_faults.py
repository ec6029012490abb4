"""Faults during `vsm build`: SIGKILL at many points, a read-only output folder, a full disk, two
builds into one --out at once. The promise: the output folder always holds one whole site (the
previous one, or the new one once it is swapped in), never a mix and never nothing; a rerun is
byte-identical to a clean build; a folder that cannot be written is E400 and exit 1.

The project is tests/data/foundation/project with a vsm.yaml whose title differs between site A
(built first) and site B (what the killed builds build), so every file of the two can be told
apart: after each kill the output must equal A or B exactly, byte for byte ("bytes lost": files
missing, extra or different from both; always 0).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation" / "project"
SEED = 20261207
ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def project_with_title(root: Path, title: str) -> Path:
    shutil.copytree(FOUNDATION, root)
    (root / "vsm.yaml").write_text(f"title: {title}\n")
    return root


def vsm(*args: str, code: str = "") -> subprocess.Popen[bytes]:
    """`vsm args` in a child process; `code` runs first (to plant a kill in the write phase)."""
    script = code + "\nimport sys\nfrom generator.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )


def build(project: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    p = vsm("build", "--project", str(project), "--out", str(out), "--quiet", *extra)
    stdout, stderr = p.communicate(timeout=600)
    return subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)


def restore(saved: Path, out: Path) -> None:
    shutil.rmtree(out)
    shutil.copytree(saved, out)


def bytes_lost(now: dict[str, bytes], sites: list[dict[str, bytes]]) -> int:
    """Bytes of the closest whole site that are missing or wrong in `now` (0 when it is one)."""
    def lost(site: dict[str, bytes]) -> int:
        return sum(len(data) for name, data in site.items() if now.get(name) != data) + sum(
            len(data) for name, data in now.items() if name not in site
        )

    return min(lost(site) for site in sites)


# kills planted in the write phase (deterministic points the time offsets may miss)
WRITE_PHASE = {
    "after the first file": "files", "after half the files": "half", "after the last file": "last",
    "before the swap": "exchange-before", "after the swap": "exchange-after",
    "between the two renames (no RENAME_EXCHANGE)": "fallback-between",
    "after the two renames (no RENAME_EXCHANGE)": "fallback-after",
    "while removing the previous site": "rmtree",
}

PLANT = textwrap.dedent(
    """
    import os, signal, shutil
    from pathlib import Path
    import generator.write as w
    where = {where!r}
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    if where in ("files", "half", "last"):
        real = Path.write_bytes
        count = [0]
        def write_bytes(self, data):
            n = real(self, data)
            count[0] += 1
            if (where == "files" and count[0] == 1) or (where == "half" and count[0] == 5) or (
                where == "last" and count[0] == {files}):
                die()
            return n
        Path.write_bytes = write_bytes
    elif where.startswith("exchange"):
        real_exchange = w._exchange
        def exchange(a, b):
            if where == "exchange-before":
                die()
            ok = real_exchange(a, b)
            die()
        w._exchange = exchange
    elif where.startswith("fallback"):
        w._exchange = lambda a, b: False
        real_replace = os.replace
        calls = [0]
        def replace(a, b):
            real_replace(a, b)
            calls[0] += 1
            if (where == "fallback-between" and calls[0] == 1) or (where == "fallback-after" and calls[0] == 2):
                die()
        w.os.replace = replace
    elif where == "rmtree":
        real_rmtree = shutil.rmtree
        def rmtree(path, *a, **k):
            if ".new-" in str(path) or ".old-" in str(path):
                victims = sorted(Path(path).rglob("*.html"))
                for v in victims[: len(victims) // 2]:
                    v.unlink()
                die()
            return real_rmtree(path, *a, **k)
        w.shutil.rmtree = rmtree
    """
)


@pytest.mark.slow
def test_sigkill_at_seeded_points_never_loses_the_site(tmp_path: Path) -> None:
    a = project_with_title(tmp_path / "a", "Site A")
    b = project_with_title(tmp_path / "b", "Site B")
    out = tmp_path / "out" / "_site"
    clean = tmp_path / "clean" / "_site"
    assert build(a, out).returncode == 0
    site_a = tree(out)
    saved_a = tmp_path / "saved-a"
    shutil.copytree(out, saved_a)
    # the fastest of two clean builds: a reference slowed by the other test worker would put the
    # later offsets past the end of a build that runs at full speed (the kills below need them inside)
    durations = []
    for _ in range(2):
        start = time.monotonic()
        assert build(b, clean, "--no-cache").returncode == 0
        durations.append(time.monotonic() - start)
    duration = min(durations)
    site_b = tree(clean)
    assert site_a.keys() == site_b.keys() and all(site_a[k] != site_b[k] for k in site_a if k.endswith(".html"))

    rng = random.Random(SEED)
    # inside a clean build's duration, with a margin: each timed build below is a clean one too
    # (--no-cache), or builds that reuse the cache would finish before most offsets
    offsets = sorted(rng.uniform(0.05, 0.9) * duration for _ in range(14))
    kills: list[tuple[str, str, int]] = []
    for offset in offsets:
        p = vsm("build", "--project", str(b), "--out", str(out), "--quiet", "--no-cache")
        try:
            p.wait(timeout=offset)
            outcome = f"finished before {offset:.2f} s"
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            outcome = f"killed at {offset:.2f} s"
        now = tree(out)
        kills.append((outcome, "A" if now == site_a else "B" if now == site_b else "mixed", bytes_lost(now, [site_a, site_b])))
        if now == site_b:  # start the next kill from site A again
            restore(saved_a, out)
    for label, where in WRITE_PHASE.items():
        p = vsm("build", "--project", str(b), "--out", str(out), "--quiet", code=PLANT.format(where=where, files=len(site_b)))
        p.communicate(timeout=600)
        assert p.returncode == -signal.SIGKILL, (label, p.returncode)
        if where == "fallback-between":
            # without an atomic exchange, a death between the renames leaves the previous site
            # moved aside whole; the next build puts it back before swapping (tested below)
            assert not out.exists()
            (aside,) = out.parent.glob("._site.old-*/site")
            now = tree(aside)
            kills.append((f"killed {label}", "A (aside)" if now == site_a else "mixed", bytes_lost(now, [site_a])))
            assert build(b, out).returncode == 0 and tree(out) == site_b
            assert sorted(p.name for p in out.parent.iterdir()) == ["_site"]
            restore(saved_a, out)
            continue
        now = tree(out)
        kills.append((f"killed {label}", "A" if now == site_a else "B" if now == site_b else "mixed", bytes_lost(now, [site_a, site_b])))
        if now != site_a:
            restore(saved_a, out)
    killed = [k for k in kills if k[0].startswith("killed")]
    assert len(killed) >= 20, kills
    assert [k for k in kills if k[1] == "mixed" or k[2]] == [], kills
    # the rerun is byte-identical to the clean build, and leaves nothing beside the output
    assert build(b, out).returncode == 0
    assert tree(out) == site_b
    assert sorted(p.name for p in out.parent.iterdir()) == ["_site"]
    print(f"\n{len(killed)} kills survived, 0 bytes lost: {kills}")


@pytest.mark.slow
def test_two_builds_into_one_out_never_mix(tmp_path: Path) -> None:
    a = project_with_title(tmp_path / "a", "Site A")
    b = project_with_title(tmp_path / "b", "Site B")
    sites = []
    for project, name in ((a, "ca"), (b, "cb")):
        assert build(project, tmp_path / name / "_site").returncode == 0
        sites.append(tree(tmp_path / name / "_site"))
    out = tmp_path / "out" / "_site"
    for _ in range(3):
        both = [vsm("build", "--project", str(p), "--out", str(out), "--quiet") for p in (a, b)]
        results = [p.communicate(timeout=600) for p in both]
        assert [p.returncode for p in both] == [0, 0], results
        assert tree(out) in sites
        assert sorted(p.name for p in out.parent.iterdir()) == ["_site"]


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """An empty folder where the test may mount a small tmpfs (root only); unmounted after."""
    where = tmp_path / "mnt"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) to mount a small tmpfs (a full or read-only file system)")
    probe = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine cannot mount a tmpfs: {probe.stderr.decode().strip()}")
    subprocess.run(["umount", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def site_size(project: Path, tmp_path: Path) -> int:
    out = tmp_path / "size" / "_site"
    assert build(project, out).returncode == 0
    return sum(len(v) for v in tree(out).values())


def test_a_full_disk_is_e400_and_keeps_the_previous_site(mounted: Path, tmp_path: Path) -> None:
    a = project_with_title(tmp_path / "a", "Site A")
    size = site_size(a, tmp_path)
    # room for one site and a half: the first build fits, the second cannot stage beside it
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * 3 // 2 + 65536}", "tmpfs", str(mounted)], check=True)
    out = mounted / "_site"
    assert build(a, out).returncode == 0
    before = tree(out)
    b = project_with_title(tmp_path / "b", "Site B " + "x" * 200)
    result = build(b, out)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert f"{out}: error[E400]: cannot write the site: No space left on device" in err
    assert "hint:" in err and "Traceback" not in err
    assert tree(out) == before
    assert sorted(p.name for p in mounted.iterdir()) == ["_site"]


def test_a_read_only_output_folder_is_e400(mounted: Path, tmp_path: Path) -> None:
    a = project_with_title(tmp_path / "a", "Site A")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mounted)], check=True)
    out = mounted / "_site"
    assert build(a, out).returncode == 0
    before = tree(out)
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    result = build(a, out)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert f"{out}: error[E400]: cannot write the site: Read-only file system" in err
    assert "Traceback" not in err
    assert tree(out) == before
    # a read-only folder where the site does not exist yet
    result = build(a, mounted / "new")
    assert result.returncode == 1 and "error[E400]" in result.stderr.decode()
