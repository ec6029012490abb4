"""The package as users install it: a wheel, in a fresh environment, builds the example streams.

An editable install finds files next to the source tree whatever the package
declares; a wheel only carries what pyproject.toml lists. So the wheel is built
from this checkout, installed into a new virtual environment, and run from a
folder outside the checkout. Its third-party dependencies come from this
environment's site-packages, appended to the new one's path (no network); that
folder's editable-install hook is never run from there, so `generator` can only
be the wheel's. The site it builds must be byte for byte the one this checkout
builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from generator.build import BuildOptions, build

REPO = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_wheel_in_a_fresh_environment_builds_the_examples(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", str(wheels), str(REPO)],
        check=True, cwd=tmp_path,
    )
    [wheel] = wheels.glob("vsm_site-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {n for n in names if n.startswith("generator/site_templates/")}
    shipped = {f"generator/{p.relative_to(REPO / 'generator').as_posix()}"
               for p in (REPO / "generator" / "site_templates").rglob("*") if p.is_file()}
    assert templates == shipped  # every template and static file, nothing else under it

    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    fresh = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           check=True, capture_output=True, text=True).stdout.strip()
    (Path(fresh) / "vsm-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
                    "-q", str(wheel)], check=True)
    where = subprocess.run([python, "-c", "import generator; print(generator.__file__)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(env), where  # the wheel's copy, not this checkout

    project = tmp_path / "project"
    shutil.copytree(REPO / "streams", project / "streams")
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # provenance variables kept: both builds see them
    done = subprocess.run([env / "bin" / "vsm", "build", "--project", str(project), "--out", str(tmp_path / "wheel-site"),
                           "--quiet", "--no-cache"], cwd=tmp_path, env=clean_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    here = build(BuildOptions(project=project, out=tmp_path / "checkout-site"))
    assert here.written
    built, expected = tree(tmp_path / "wheel-site"), tree(tmp_path / "checkout-site")
    assert "streams/development/index.html" in built and "index.html" in built
    assert built == expected
