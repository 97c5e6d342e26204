"""The documentation names only what exists: make targets, repo paths, links and CLI flags.

Reads README.md, CONTRIBUTING.md and docs/*.md as text and checks them against the Makefile,
the working tree and the argparse definitions of `devstack.seed` and `devstack.demo` (by
searching their source, never importing them). No services, no project imports: it runs in
well under a second.

What counts as a name:
- a make target: `make <target>` inside code (inline code or a fenced block);
- a repo path: a word inside code that starts with a top-level folder (`dags/`, `include/`, ...)
  or is a known root file. Runtime paths (`.local/...`) and patterns (`<model>`, `*`) are skipped;
- a link: any relative markdown link; a `#anchor` into a markdown file must name a heading;
- a flag: `--flag` in a paragraph, list item, table row or command line that names
  `devstack.seed` (or `make seed`, `SEED_ARGS`) or `devstack.demo`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250

TOP_FOLDERS = ("dags/", "include/", "plugins/", "devstack/", "tests/", "bench/", "bin/", "docker/", "docs/", ".ci/")
ROOT_FILES = {
    "Makefile",
    "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt",
    "constraints.txt",
    "airflow_settings.yaml",
    "airflow_local_settings.py",
    ".secrets.baseline",
    ".hadolint.yaml",
    ".gitignore",
}
ROOT_DOC = re.compile(r"^[A-Z][A-Z0-9_-]*\.md$")  # README.md, CONTRIBUTING.md, DESIGN.md, ...
# Made by the reader, never committed: `cp docker/.env.example docker/.env`.
CREATED_BY_READER = {"docker/.env"}
PATTERN_CHARS = set("<>*{}[]…$")

FLAG_SOURCES = {
    "devstack.seed": sorted((ROOT / "devstack" / "seed").glob("*.py")),
    "devstack.demo": [ROOT / "devstack" / "demo.py"],
}
FLAG_CONTEXT = {
    "devstack.seed": re.compile(r"devstack[./]seed\b|\bmake seed\b|\bSEED_ARGS\b"),
    "devstack.demo": re.compile(r"devstack[./]demo\b"),
}
ARGPARSE_BUILTIN = {"--help"}

FENCE = re.compile(r"^\s*(```+|~~~+)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ITEM_START = re.compile(r"^\s*(?:[-*+]|\d+\.)\s")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MAKE_TARGET = re.compile(r"(?<![\w/.-])make\s+([a-z][a-z-]*)\b")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
WORD_SPLIT = re.compile(r"[\s'\"=(),;|`]+")


@dataclass(frozen=True)
class Unit:
    """A piece of a document checked as a whole: a paragraph, list item, table row or heading
    (prose), or one command line of a fenced block (continuations joined)."""

    doc: Path
    line: int
    text: str
    fenced: bool

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def code(self) -> list[str]:
        """The text inside code: the whole line of a fenced block, the inline code spans of prose."""
        return [self.text] if self.fenced else [m.group(2) for m in CODE_SPAN.finditer(self.text)]

    @property
    def prose(self) -> str:
        """Prose without its code spans (a link inside code is no link)."""
        return "" if self.fenced else CODE_SPAN.sub(" ", self.text)


def units(doc: Path) -> list[Unit]:
    out: list[Unit] = []
    prose: list[str] = []
    start = 0
    fence: str | None = None
    command: list[str] = []

    def flush_prose() -> None:
        if prose:
            out.append(Unit(doc, start, "\n".join(prose), fenced=False))
            prose.clear()

    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        opening = FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1).startswith(fence):
                fence = None
                continue
            if not command:
                start = number
            command.append(line.rstrip().removesuffix("\\"))
            if not line.rstrip().endswith("\\"):
                out.append(Unit(doc, start, " ".join(command), fenced=True))
                command.clear()
            continue
        if opening:
            flush_prose()
            fence = opening.group(1)[:3]
            continue
        if not line.strip():
            flush_prose()
            continue
        new_unit = HEADING.match(line) or ITEM_START.match(line) or line.lstrip().startswith("|")
        if new_unit or (prose and (HEADING.match(prose[-1]) or prose[-1].lstrip().startswith("|"))):
            flush_prose()
        if not prose:
            start = number
        prose.append(line)
    flush_prose()
    return out


UNITS = [unit for doc in DOCS for unit in units(doc)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for unit in units(doc):
        heading = HEADING.match(unit.text) if not unit.fenced else None
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*)\s*:", (ROOT / "Makefile").read_text(), re.M))


def repo_path(word: str) -> str | None:
    """`word` as a repo path to check, or None when it is not one (or is a runtime path or a pattern)."""
    word = word.split("::", 1)[0].strip(".,:;!?")
    if not word or PATTERN_CHARS & set(word) or "..." in word:
        return None
    if word.startswith(TOP_FOLDERS) or word in ROOT_FILES or ROOT_DOC.match(word):
        return None if word.rstrip("/") in CREATED_BY_READER else word
    return None


def test_docs_exist():
    assert (ROOT / "docs" / "index.md").is_file()
    assert len(DOCS) > 3


def test_every_make_target_named_exists():
    targets = makefile_targets()
    named = [(unit.where, m.group(1)) for unit in UNITS for code in unit.code for m in MAKE_TARGET.finditer(code)]
    missing = [f"{where}: make {target}" for where, target in named if target not in targets]
    assert len(named) >= 10, f"too few `make` targets found to trust the check: {named}"
    assert not missing, "targets the Makefile does not define:\n" + "\n".join(missing)


def test_every_repo_path_named_exists():
    named = []
    for unit in UNITS:
        words = [w for code in unit.code for w in WORD_SPLIT.split(code)]
        named += [(unit.where, p) for p in map(repo_path, words) if p]
    missing = [f"{where}: {path}" for where, path in named if not (ROOT / path).exists()]
    assert len(named) >= 30, f"too few repo paths found to trust the check: {named}"
    assert not missing, "paths that do not exist in the repository:\n" + "\n".join(missing)


def test_every_relative_link_resolves():
    checked, broken = 0, []
    for unit in UNITS:
        for target in LINK.findall(unit.prose):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
                continue
            path_part, _, anchor = target.partition("#")
            resolved = (unit.doc.parent / path_part).resolve() if path_part else unit.doc
            checked += 1
            if not resolved.exists():
                broken.append(f"{unit.where}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{unit.where}: {target} (no heading '{anchor}' in {resolved.relative_to(ROOT)})")
    assert checked >= 20, f"too few links found to trust the check ({checked})"
    assert not broken, "links that do not resolve:\n" + "\n".join(broken)


def test_every_seed_and_demo_flag_named_exists():
    sources = {module: "\n".join(p.read_text() for p in paths) for module, paths in FLAG_SOURCES.items()}
    checked, unknown = 0, []
    for unit in UNITS:
        modules = [module for module, context in FLAG_CONTEXT.items() if context.search(unit.text)]
        if not modules:
            continue
        for flag in set(FLAG.findall(unit.text)) - ARGPARSE_BUILTIN:
            checked += 1
            if not any(f'"{flag}"' in sources[module] for module in modules):
                unknown.append(f"{unit.where}: {flag} (not an option of {' or '.join(modules)})")
    assert checked >= 5, f"too few seed/demo flags found to trust the check ({checked})"
    assert not unknown, "flags the modules' argparse does not define:\n" + "\n".join(sorted(unknown))


def test_every_markdown_page_the_code_points_to_exists():
    """A docstring or comment that sends the reader to `docs/x.md` (or `DESIGN.md`) names a real page."""
    sources = [ROOT / name for name in ("Makefile", "airflow_local_settings.py", "airflow_settings.yaml")]
    for folder in TOP_FOLDERS:
        sources += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in {".py", ".yaml", ".sh", ""}]
    sources = [p for p in sources if p != Path(__file__).resolve() and "__pycache__" not in p.parts]
    named = []
    for source in sources:
        for word in re.findall(r"[\w./-]+\.md\b", source.read_text(encoding="utf-8", errors="replace")):
            if "/" in word or ROOT_DOC.match(word):
                named.append((source.relative_to(ROOT), word))
    missing = [f"{source}: {word}" for source, word in named if not (ROOT / word).exists()]
    assert not missing, "markdown pages named in the code that do not exist:\n" + "\n".join(missing)


def test_every_docs_page_is_listed_in_the_index():
    index = (ROOT / "docs" / "index.md").read_text()
    linked = {Path(target.partition("#")[0]).name for target in LINK.findall(index)}
    unlisted = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.name != "index.md" and p.name not in linked]
    assert not unlisted, f"docs pages missing from docs/index.md: {unlisted}"


def test_every_docs_page_opens_with_a_title_and_a_lead():
    for page in sorted((ROOT / "docs").glob("*.md")):
        page_units = units(page)
        assert page_units and HEADING.match(page_units[0].text), f"{page.name}: no title on the first line"
        lead = page_units[1] if len(page_units) > 1 else None
        assert lead and not lead.fenced and not HEADING.match(lead.text) and not ITEM_START.match(lead.text), (
            f"{page.name}: the title is not followed by a lead paragraph"
        )


def test_readme_stays_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail to docs/"
