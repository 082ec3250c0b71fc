"""The wheel works on its own: built from the source, installed into a fresh virtualenv in a
temporary folder, and run from another folder with no checkout on the path.

* The wheel is built (``pip wheel --no-deps --no-build-isolation``) from a copy of the
  package's folders, so a stale ``build/`` in the checkout cannot leak into it and a
  concurrent ``make dist`` is not disturbed.
* The fresh venv gets the wheel with ``--no-deps`` (before anything else is on its path), then
  a ``.pth`` line per site-packages folder of this interpreter: that makes the third-party
  packages importable without a network. Paths in a ``.pth`` file are only appended to
  ``sys.path``; the ``.pth`` files inside them (the dev install's editable hook) are not run,
  so ``akhbar`` can only come from the wheel.
* Because those borrowed folders hold more than akhbar declares, the dependencies are
  checked against the wheel's metadata: every module the installed package imports at
  module level belongs to a distribution in the closure of the default requirements, and
  every lazily imported one to the extra that its error message names.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.paths import REPO_ROOT

pytestmark = pytest.mark.slow

# What the wheel is built from: the package, the folders it links in, and the build configuration.
SOURCES = ["akhbar", "pipelines", "transforms", "schemas", "sample", "models"]
BUILD_FILES = ["pyproject.toml", "README.md"]
# Imported only inside functions, behind a one-line message that names the extra to install.
OPTIONAL_IMPORTS = {"torch": "hf", "transformers": "hf", "huggingface_hub": "hf",
                    "duckdb": "analytics", "matplotlib": "analytics",
                    "pygal": "analytics", "pygal_maps_world": "analytics"}


def _site_packages() -> list[str]:
    return [p for p in sys.path if p.rstrip("/").endswith("site-packages") and Path(p).is_dir()]


def _run(cmd: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("AKHBAR_")}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**clean, "HF_HUB_OFFLINE": "1", **env})
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel, install it into a fresh venv; returns its paths."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        shutil.copytree(REPO_ROOT / name, source / name, symlinks=True, ignore=skip)
    for name in BUILD_FILES:
        shutil.copy2(REPO_ROOT / name, source / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(dist),
          str(source)], cwd=tmp)
    (wheel,) = dist.glob("akhbar-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp)
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp).stdout.strip())
    (purelib / "_akhbar_test_deps.pth").write_text("\n".join(_site_packages()) + "\n")
    work = tmp / "elsewhere"
    work.mkdir()
    return {"wheel": wheel, "venv": venv, "python": python, "purelib": purelib, "work": work}


def test_the_wheel_holds_one_package_and_the_runtime_models(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    version = installed["wheel"].name.split("-")[1]
    assert {n.split("/")[0] for n in names} == {"akhbar", f"akhbar-{version}.dist-info"}  # nothing generic
    for folder in ("pipelines", "transforms", "schemas", "sample", "core", "lib", "cli"):
        assert f"akhbar/{folder}/__init__.py" in names, folder
    for model_file in ("ner-ar-small/model.onnx", "ner-ar-small/tokenizer.json", "events-ar-small/model.onnx",
                       "events-ar-small/tfidf.safetensors", "neardup/pair_scorer.json"):
        assert f"akhbar/models/{model_file}" in names, model_file
    assert [n for n in names if n.startswith("akhbar/sample/") and n.endswith(".jsonl")]  # the demo's corpus
    # Training checkpoints and the int8 variant stay in the checkout.
    assert not [n for n in names if n.endswith("model.safetensors") or n.endswith(".int8.onnx")]
    assert not [n for n in names if "/training/" in n or "/bench/" in n or "/tests/" in n]


def test_akhbar_comes_from_the_fresh_venv(installed):
    probe = ("import json, sys, akhbar, akhbar.pipelines, akhbar.models, akhbar.lib.models as m; "
             "print(json.dumps({'akhbar': akhbar.__file__, 'pipelines': akhbar.pipelines.__file__, "
             "'ner': str(m.NER_MODEL), 'path': sys.path}))")
    found = json.loads(_run([str(installed["python"]), "-c", probe], cwd=installed["work"]).stdout)
    purelib = str(installed["purelib"])
    for key in ("akhbar", "pipelines", "ner"):
        assert found[key].startswith(purelib + os.sep), (key, found[key])
    assert str(REPO_ROOT) not in found["path"]
    assert not [p for p in found["path"] if p.startswith(str(REPO_ROOT)) and "site-packages" not in p]


def test_run_help_from_another_folder(installed):
    out = _run([str(installed["venv"] / "bin" / "akhbar"), "run", "--help"], cwd=installed["work"]).stdout
    assert out.startswith("usage: akhbar run --feeds FILE --output DIR")
    assert "--ner_model" in out and "--near_dup_policy" in out


def test_demo_from_another_folder_writes_enriched_parquet(installed):
    duckdb = pytest.importorskip("duckdb")
    work = installed["work"]
    proc = _run([str(installed["venv"] / "bin" / "akhbar"), "demo", "--output", "out"], cwd=work, timeout=600)
    assert "accounted for       yes" in proc.stdout, proc.stdout
    articles = str(work / "out" / "articles" / "*" / "*.parquet")
    con = duckdb.connect()
    n, ner, events, with_entities = con.execute(
        f"SELECT count(*), count(DISTINCT ner_model), count(DISTINCT event_model), count(*) FILTER "
        f"(WHERE len(entities) > 0) FROM read_parquet('{articles}', hive_partitioning=true) "
        "WHERE ner_model LIKE 'ner-ar-small@%' AND event_model LIKE 'events-ar-small@%'").fetchone()
    (total,) = con.execute(f"SELECT count(*) FROM read_parquet('{articles}', hive_partitioning=true)").fetchone()
    assert total > 50 and n == total, (n, total)  # every row names the models that enriched it
    assert ner == 1 and events == 1 and with_entities > total / 2
    dead = str(work / "out" / "dead_letters" / "*" / "*.parquet")
    (n_dead,) = con.execute(f"SELECT count(*) FROM read_parquet('{dead}', hive_partitioning=true)").fetchone()
    assert n_dead > 0  # the demo's bad feeds and pages


def _wheel_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(zf.read(meta).decode())
    return [Requirement(r) for r in message.get_all("Requires-Dist") or []]


def _closure(requirements: list[Requirement], extra: str = "") -> tuple[set[str], set[str]]:
    """Distributions that installing ``requirements`` (with ``extra``) brings in: (found, not installed here)."""
    todo = [(r, extra) for r in requirements]
    found, absent = set(), set()
    while todo:
        req, active = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": active}):
            continue
        name = canonicalize_name(req.name)
        key = (name, tuple(sorted(req.extras)))
        if key in found:
            continue
        found.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            absent.add(name)
            continue
        for sub in dist.requires or []:
            for sub_extra in ("", *req.extras):
                todo.append((Requirement(sub), sub_extra))
    return {name for name, _ in found}, absent


def _imports(package: Path) -> dict[str, set[str]]:
    """Third-party top-level modules the package imports: {module: {"eager" | "lazy"}}."""
    found: dict[str, set[str]] = {}
    for folder, dirs, files in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for file in (f for f in files if f.endswith(".py")):
            tree = ast.parse(Path(folder, file).read_text(encoding="utf-8"))
            lazy = {id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                    for n in ast.walk(fn)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "akhbar":
                        found.setdefault(top, set()).add("lazy" if id(node) in lazy else "eager")
    return found


def test_the_declared_dependencies_cover_what_the_package_imports(installed):
    requirements = _wheel_requirements(installed["wheel"])
    default, _absent = _closure(requirements)
    providers = metadata.packages_distributions()
    imports = _imports(installed["purelib"] / "akhbar")
    assert {"apache_beam", "feedparser", "trafilatura", "onnxruntime", "datasketch"} <= set(imports)
    problems = []
    for module, how in sorted(imports.items()):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists:
            problems.append(f"{module}: no installed distribution provides it")
        elif dists & default:
            continue
        elif module in OPTIONAL_IMPORTS and how == {"lazy"}:
            extra_closure, _ = _closure(requirements, OPTIONAL_IMPORTS[module])
            if not dists & extra_closure:
                problems.append(f"{module}: the [{OPTIONAL_IMPORTS[module]}] extra does not bring {sorted(dists)}")
        else:
            problems.append(f"{module} ({'/'.join(sorted(how))}): {sorted(dists)} is not a default dependency")
    assert not problems, "\n".join(problems)


def test_pip_check_finds_akhbar_requirements_met(installed):
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(installed["python"]), "check"],
                          cwd=installed["work"], capture_output=True, text=True, timeout=300)
    about_akhbar = [line for line in proc.stdout.splitlines() if line.lower().startswith("akhbar ")]
    assert not about_akhbar, about_akhbar
