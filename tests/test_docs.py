"""Every relative link and #anchor in the documentation resolves, the way GitHub renders it.

Files: README.md, docs/*.md, models/*/README.md, schemas/*.md, training/**/*.md, deploy/**/*.md.
A link is checked when it is relative (not http(s):, mailto:): its file or folder must exist
in the checkout, and an ``#anchor`` must be a heading of the target Markdown file (GitHub's
rule: lower case, punctuation dropped except ``-`` and ``_``, spaces to ``-``, a repeated
heading gets ``-1``, ``-2``, ...). Links in code are not links.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.paths import REPO_ROOT

DOC_GLOBS = ["README.md", "docs/*.md", "models/*/README.md", "schemas/*.md", "training/**/*.md", "deploy/**/*.md"]
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)  # code spans may run over a line break
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.I)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.I)


def doc_files() -> list[Path]:
    found = {p for pattern in DOC_GLOBS for p in REPO_ROOT.glob(pattern)}
    return sorted(p for p in found if ".venv" not in p.parts and "build" not in p.parts)


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images keep their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "")
    text = re.sub(r"\*\*|\*|~~", "", text)  # emphasis markers (underscores stay: they are word characters)
    text = text.strip().lower()
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "-_ " or category[0] in "LN" or category in ("Mn", "Mc"):
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set(HTML_ANCHOR.findall(text))
    for _level, title in HEADING.findall(text):
        slug = github_slug(title)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return frozenset(found)


def links(path: Path) -> list[str]:
    text = _prose(path.read_text(encoding="utf-8"))
    return INLINE_LINK.findall(text) + REFERENCE_DEF.findall(text) + HTML_LINK.findall(text)


def test_github_slugs():
    assert github_slug("Apache Flink and deploying") == "apache-flink-and-deploying"
    assert github_slug("Streaming: PeriodicImpulse does not work on portable Flink; what replaces it") == \
        "streaming-periodicimpulse-does-not-work-on-portable-flink-what-replaces-it"
    assert github_slug("Throughput (local, batch)") == "throughput-local-batch"
    assert github_slug("`akhbar run` options") == "akhbar-run-options"
    assert github_slug("Tests (`make test-flink`, part of `make test`)") == "tests-make-test-flink-part-of-make-test"
    assert github_slug("The `text_hash` column") == "the-text_hash-column"
    assert github_slug("**Bold** and [a link](x.md)") == "bold-and-a-link"
    assert github_slug("أخبار عاجلة") == "أخبار-عاجلة"


def test_the_check_finds_broken_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Part two\n\n[ok](#part-two) [bad](#part-three) [gone](missing.md) "
                    "[web](https://example.com) `[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n")
    assert links(page) == ["#part-two", "#part-three", "missing.md", "https://example.com"]
    assert anchors(page) == {"title", "part-two"}
    assert [target for target in links(page) if broken(page, target)] == ["#part-three", "missing.md"]


def broken(source: Path, target: str) -> str | None:
    """Why a link from ``source`` does not resolve, or None."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
        return None  # absolute URLs (http:, https:, mailto:) are not checked here
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part.split("?", 1)[0])
    dest = (source.parent / path_part).resolve() if path_part else source
    root = REPO_ROOT.resolve() if source.resolve().is_relative_to(REPO_ROOT.resolve()) else source.parent.resolve()
    if path_part:
        if not dest.is_relative_to(root):
            return f"{target}: points outside the repository"
        if not dest.exists():
            return f"{target}: no such file"
    if anchor:
        if dest.is_dir() or dest.suffix.lower() != ".md":
            return None if not dest.is_dir() else f"{target}: an anchor on a folder"
        if unquote(anchor) not in anchors(dest):
            return f"{target}: no heading with anchor #{anchor} in {dest.name}"
    return None


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_and_anchor_resolves(path):
    problems = [why for target in links(path) if (why := broken(path, target))]
    assert not problems, "\n".join(problems)


def test_the_documentation_set_is_what_the_readme_links():
    readme_links = {t.split("#")[0] for t in links(REPO_ROOT / "README.md")}
    manual = {f"docs/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md")}
    assert manual <= readme_links, f"docs not linked from the README: {sorted(manual - readme_links)}"
    assert (REPO_ROOT / "README.md").stat().st_size <= 15_000


# -- names the documentation uses ----------------------------------------------------------------

REPO_PATH = re.compile(r"`((?:akhbar|pipelines|transforms|schemas|sample|models|training|bench|deploy|tests|docs|data)"
                       r"/[\w./*-]+?)(?::[\w.]+)?`")
DOTTED = re.compile(r"`(akhbar\.(?:lib|core|pipelines|transforms|schemas|cli|sample|settings)(?:\.\w+)*)(?:\(\))?`")
SHELL = ("sh", "bash", "shell", "console", "")


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of each fenced code block, fences paired line by line."""
    blocks, fence, lang, body = [], None, "", []
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None:
            match = re.match(r"^(```+|~~~+)\s*([\w-]*)", stripped)
            if match:
                fence, lang, body = match.group(1), match.group(2), []
        elif stripped.startswith(fence) and stripped.strip("`~") == "":
            blocks.append((lang, "\n".join(body)))
            fence = None
        else:
            body.append(line)
    return blocks


def _command_segments(line: str) -> list[list[str]]:
    """The words of each simple command of a shell line, leading VAR=value assignments dropped."""
    segments = []
    for part in re.split(r"&&|\|\||[;|()]", line):
        words = part.split()
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
            words.pop(0)
        if words:
            segments.append(words)
    return segments


def _all_docs_text() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in doc_files()]


def test_every_repository_path_the_docs_name_exists():
    missing = []
    for path, text in _all_docs_text():
        for name in REPO_PATH.findall(text):
            if not (list(REPO_ROOT.glob(name)) if "*" in name else (REPO_ROOT / name).exists()):
                missing.append(f"{path.relative_to(REPO_ROOT)}: {name}")
    assert not missing, "\n".join(missing)


def test_every_akhbar_name_the_docs_use_resolves():
    import importlib

    unresolved = []
    for path, text in _all_docs_text():
        for dotted in set(DOTTED.findall(text)):
            parts = dotted.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    target = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                try:
                    for attr in parts[cut:]:
                        target = getattr(target, attr)
                except AttributeError:
                    unresolved.append(f"{path.relative_to(REPO_ROOT)}: {dotted}")
                break
            else:
                unresolved.append(f"{path.relative_to(REPO_ROOT)}: {dotted}")
    assert not unresolved, "\n".join(unresolved)


def _make_targets() -> set[str]:
    makefile = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))


def _runnable(module: str) -> bool:
    """``python -m module`` works: a file with a __main__ block, or a package with __main__.py."""
    parts = module.split(".")
    if not (REPO_ROOT / parts[0]).is_dir():  # another package (pytest, ...): installed
        import importlib.util

        return importlib.util.find_spec(module) is not None
    base = REPO_ROOT.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return "__main__" in base.with_suffix(".py").read_text(encoding="utf-8")
    return (base / "__main__.py").is_file()


def test_documented_commands_exist():
    from akhbar.cli import COMMANDS
    from akhbar.cli.evaluate import KINDS

    targets = _make_targets()
    problems, checked = [], 0
    for path, text in _all_docs_text():
        where = path.relative_to(REPO_ROOT)
        for lang, block in code_blocks(text):
            if lang not in SHELL:
                continue
            for line in block.replace("\\\n", " ").splitlines():
                for words in _command_segments(line.split(" #", 1)[0].strip()):
                    checked += 1
                    if words[0] in ("python", "python3", ".venv/bin/python") and words[1:2] == ["-m"]:
                        module = words[2] if len(words) > 2 else ""
                        if module == "akhbar":
                            words = ["akhbar", *words[3:]]
                        elif not _runnable(module):
                            problems.append(f"{where}: python -m {module}")
                            continue
                    if words[0] == "make" and len(words) > 1 and not words[1].startswith("-"):
                        if words[1].split("=")[0] not in targets:
                            problems.append(f"{where}: make {words[1]}")
                    if Path(words[0]).name == "akhbar" and len(words) > 1 and not words[1].startswith("-"):
                        if words[1] not in COMMANDS:
                            problems.append(f"{where}: akhbar {words[1]}")
                        elif words[1] == "eval" and (len(words) < 3 or words[2] not in KINDS):
                            problems.append(f"{where}: akhbar eval {' '.join(words[2:3])}")
    assert checked > 50 and not problems, "\n".join(problems)


def test_the_command_check_reads_shell_lines():
    text = "intro\n```sh\nX=1 akhbar run --once && make demo; python -m training.ner.train\n```\n```sql\nSELECT 1\n```\n"
    assert code_blocks(text) == [("sh", "X=1 akhbar run --once && make demo; python -m training.ner.train"),
                                 ("sql", "SELECT 1")]
    assert _command_segments("X=1 akhbar run --once && make demo; kubectl -n akhbar delete job x") == [
        ["akhbar", "run", "--once"], ["make", "demo"], ["kubectl", "-n", "akhbar", "delete", "job", "x"]]
    assert _runnable("training.ner.train") and not _runnable("akhbar.pipelines.ingest")
