"""Layer rules that import-linter cannot see: where the environment is read, and that the
default path (the CLI, the pipeline, the shipped models) never loads torch or transformers.

The import contracts themselves are in pyproject.toml (`lint-imports`, run by `make lint`);
``test_import_contracts_hold`` runs them here too, so plain pytest catches a wrong import.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import akhbar
from tests.paths import REPO_ROOT

PACKAGE = Path(akhbar.__file__).resolve().parent
ENV_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def package_modules() -> list[Path]:
    """Every .py file of the installed package, through akhbar/pipelines -> pipelines/ and the other links."""
    found = []
    for folder, dirs, files in os.walk(PACKAGE, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return sorted(found)


def environment_reads(source: str) -> list[int]:
    """Lines that read or change the process environment (os.environ, os.getenv, putenv, ...)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ENV_NAMES:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "posix", "nt"):
            lines += [node.lineno for alias in node.names if alias.name in ENV_NAMES]
        elif isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_scan_covers_every_layer_and_finds_what_it_looks_for():
    relative = {p.relative_to(PACKAGE).parts[0] for p in package_modules()}
    assert {"cli", "core", "lib", "pipelines", "transforms", "schemas", "sample", "settings.py"} <= relative
    assert environment_reads("import os\nx = os.environ['A']\n") == [2]
    assert environment_reads("import os\nos.getenv('A')\nos.putenv('A', 'b')\n") == [2, 3]
    assert environment_reads("from os import environ\n") == [1]
    assert environment_reads("import os as o\no.environ.get('A')\n") == [2]
    assert environment_reads("subprocess.run(cmd, env=dict(settings_env))\n") == []


def test_the_environment_is_read_only_in_settings():
    home = PACKAGE / "settings.py"
    offenders = []
    for path in package_modules():
        if path == home:
            continue
        for line in environment_reads(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert not offenders, "read the environment through akhbar.settings, not here: " + ", ".join(offenders)
    assert environment_reads(home.read_text(encoding="utf-8")), "settings.py is where the environment is read"


DEFAULT_PATH = textwrap.dedent("""
    import json, sys
    import akhbar.cli, akhbar.cli.run, akhbar.pipelines.ingest
    from akhbar.pipelines.options import parse_options
    from akhbar.pipelines.ingest import build_enrichers
    from tests.factories import article

    opts = parse_options(["--feeds", "f.txt", "--output", "out", "--once"])
    enrichers = build_enrichers(opts)  # validates the shipped models
    text = "قال الرئيس الفرنسي إيمانويل ماكرون في باريس إن الأمم المتحدة ستعقد اجتماعا في جنيف."
    rows = []
    for enricher in enrichers:
        enricher.load()
        rows.append(enricher.enrich([article(text=text)])[0])
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
    print(json.dumps({"enrichers": [e.name for e in enrichers], "rows": rows, "heavy": heavy}, default=str))
""")


def test_the_default_path_never_imports_torch_or_transformers():
    proc = subprocess.run([sys.executable, "-c", DEFAULT_PATH], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=240, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(out["enrichers"]) == ["events", "geo", "ner"]
    ner = next(r for r in out["rows"] if "entities" in r)
    assert ner["ner_model"].startswith("ner-ar-small@")
    assert {e["type"] for e in ner["entities"]} & {"PERS", "LOC", "ORG"}, ner  # the model really ran
    assert out["heavy"] == [], f"the default path imported {out['heavy']}"


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (the test extra)")
    proc = subprocess.run([lint_imports], cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and "0 broken" in proc.stdout
