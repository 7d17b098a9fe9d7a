"""The README is a front door and the docs hold together: commands that exist, links that resolve.

Pure text checks, no `make` subprocess: every fenced code line in README.md and docs/**/*.md
that starts with `make ` (after an optional `$ ` prompt), and every inline code span that does,
must name targets the Makefile defines and variables it reads; README.md has at most 200 lines; every relative Markdown link
(and its #anchor) points to a file that exists; every docs page is reachable from the README.
The helpers are tested on small made-up inputs too, so each check is seen to fail.
"""
from __future__ import annotations

import pathlib
import re
import shlex

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"
MAKEFILE = REPO / "Makefile"
README_MAX_LINES = 200

FENCE = re.compile(r"^\s*(```|~~~)")
RULE = re.compile(r"^([A-Za-z0-9][\w.-]*)\s*:(?!=)")  # `name:` but not `NAME := value`
VARIABLE_USE = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]")
VARIABLE_DEFINITION = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?|:|\+)?=", re.M)
LOOP_VARIABLE = re.compile(r"\$\(foreach\s+([A-Za-z_][A-Za-z0-9_]*)\s*,")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")
INLINE_CODE = re.compile(r"`+[^`\n]*`+")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = ("http://", "https://", "mailto:", "ftp://")


def markdown_files() -> list[pathlib.Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def fenced_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line inside a fenced code block, continuations joined."""
    found, inside, pending = [], False, None
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            inside, pending = not inside, None
            continue
        if not inside:
            continue
        stripped = line.strip()
        if pending is not None:
            start, joined = pending
            stripped, pending = f"{joined} {stripped}", None
            number = start
        if stripped.endswith("\\"):
            pending = (number, stripped[:-1].rstrip())
            continue
        found.append((number, stripped))
    return found


def inline_code(text: str) -> list[tuple[int, str]]:
    """(line number, content) of every inline code span outside fenced blocks."""
    spans = []
    for number, line in enumerate(prose_lines(text), 1):
        spans += [(number, m.group(0).strip("`").strip()) for m in INLINE_CODE.finditer(line)]
    return spans


def make_commands(text: str) -> list[tuple[int, str]]:
    """(line number, command) of every fenced line, and every inline code span, that starts
    with `make ` (or `$ make `)."""
    commands = []
    for number, line in fenced_lines(text):
        if line.startswith("$ "):
            line = line[2:].lstrip()
        if line.startswith("make ") or line == "make":  # a bare `make` in a code block runs the first rule
            commands.append((number, line))
    commands += [(number, span) for number, span in inline_code(text) if span.startswith("make ")]
    return sorted(commands)


def parse_make(command: str) -> tuple[list[str], list[str]]:
    """(targets, variables) named by a `make ...` command line (options and comments dropped)."""
    words = shlex.split(command, comments=True)[1:]
    targets = [w for w in words if not w.startswith("-") and not ASSIGNMENT.match(w)]
    variables = [ASSIGNMENT.match(w).group(1) for w in words if ASSIGNMENT.match(w)]
    return targets, variables


def makefile_targets(makefile: str) -> set[str]:
    return {m.group(1) for line in makefile.splitlines() if (m := RULE.match(line)) and not m.group(1).startswith(".")}


def makefile_variables(makefile: str) -> set[str]:
    """Variables the Makefile defines or reads (a `$(foreach s,...)` loop variable is neither):
    a `NAME=` on the command line must be one."""
    loops = set(LOOP_VARIABLE.findall(makefile))
    return (set(VARIABLE_USE.findall(makefile)) | set(VARIABLE_DEFINITION.findall(makefile))) - loops


def task_variables() -> set[str]:
    """The make variables the tasks read themselves (their TaskSpecs' predict options: TEXT=, FILE=...)."""
    import tasks

    return {option.variable for name in tasks.names() for option in tasks.spec(name).predict_options}


def command_problems(text: str, targets: set[str], variables: set[str]) -> list[str]:
    problems = []
    for number, command in make_commands(text):
        named, assigned = parse_make(command)
        if not named:
            problems.append(f"line {number}: `{command}` names no target")
        problems += [f"line {number}: `{command}`: no target '{t}' in the Makefile" for t in named if t not in targets]
        problems += [f"line {number}: `{command}`: the Makefile reads no variable '{v}'" for v in assigned if v not in variables]
    return problems


def prose_lines(text: str) -> list[str]:
    """The lines of `text` with fenced code blocks blanked (line numbers kept)."""
    kept, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            kept.append("")
            continue
        kept.append("" if inside else line)
    return kept


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code spans (where links live)."""
    return "\n".join(INLINE_CODE.sub("", line) for line in prose_lines(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    inside = False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not inside:
            base = slug(heading.group(1))
            n = counts.get(base, 0)
            counts[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def link_targets(text: str) -> list[str]:
    return LINK.findall(prose(text))


def link_problems(path: pathlib.Path, text: str) -> list[str]:
    """Relative links of `path` whose file (or #anchor in a Markdown file) does not exist."""
    problems = []
    for target in link_targets(text):
        if target.startswith(EXTERNAL):
            continue
        if target.startswith("/"):
            problems.append(f"{target}: not a relative link")
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.is_file():
            problems.append(f"{target}: no file {destination}")
            continue
        if anchor and destination.suffix == ".md":
            known = anchors(destination.read_text(encoding="utf-8"))
            if anchor not in known:
                problems.append(f"{target}: no heading '#{anchor}' in {destination.name}")
    return problems


def reachable_pages(start: pathlib.Path) -> set[pathlib.Path]:
    """Markdown files reachable from `start` by relative links."""
    seen, pending = set(), [start.resolve()]
    while pending:
        page = pending.pop()
        if page in seen or not page.is_file():
            continue
        seen.add(page)
        for target in link_targets(page.read_text(encoding="utf-8")):
            file_part = target.partition("#")[0]
            if file_part and not target.startswith(EXTERNAL) and file_part.endswith(".md"):
                pending.append((page.parent / file_part).resolve())
    return seen


# -- the repository's README and docs -----------------------------------------------------


def test_readme_is_a_front_door_of_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/ (at most {README_MAX_LINES})"


def test_every_make_command_in_the_docs_names_a_real_target_and_variable():
    makefile = MAKEFILE.read_text(encoding="utf-8")
    targets, variables = makefile_targets(makefile), makefile_variables(makefile) | task_variables()
    assert {"run-local", "test"} <= targets  # the Makefile was parsed
    problems, seen = [], 0
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        seen += len(make_commands(text))
        problems += [f"{path.relative_to(REPO)} {p}" for p in command_problems(text, targets, variables)]
    assert seen >= 20, f"only {seen} make commands found: is the extraction broken?"
    assert not problems, "\n".join(problems)


def test_the_readme_shows_the_two_commands():
    named = {t for _, c in make_commands(README.read_text(encoding="utf-8")) for t in parse_make(c)[0]}
    assert {"run-local", "test"} <= named


def test_every_relative_link_resolves():
    problems, links = [], 0
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        links += len(link_targets(text))
        problems += [f"{path.relative_to(REPO)}: {p}" for p in link_problems(path, text)]
    assert links >= 50, f"only {links} links found: is the extraction broken?"
    assert not problems, "\n".join(problems)


def test_every_docs_page_is_reachable_from_the_readme():
    pages = {p.resolve() for p in DOCS.rglob("*.md")}
    assert pages, "docs/ has no pages"
    orphans = sorted(str(p.relative_to(REPO)) for p in pages - reachable_pages(README))
    assert not orphans, f"not linked from the README or a page it leads to: {orphans}"


# -- the checks themselves fail on bad input ------------------------------------------------

MAKEFILE_SAMPLE = """\
TASK ?= timeseries
VENV := .venv
export KERAS_BACKEND ?= tensorflow
.PHONY: run-local test
$(STAMP): setup.py
run-local: $(STAMP)
\t$(PY) -m pipeline.run_local --task $(TASK) $(if $(DATA),--data $(DATA)) $(foreach s,$(SET),--set $(s))
test: $(STAMP)
"""


def test_makefile_parsing():
    assert makefile_targets(MAKEFILE_SAMPLE) == {"run-local", "test"}  # not VENV (:=), .PHONY or $(STAMP)
    variables = makefile_variables(MAKEFILE_SAMPLE)
    assert {"TASK", "VENV", "KERAS_BACKEND", "DATA", "STAMP", "PY", "SET"} <= variables
    assert "s" not in variables  # the loop variable of $(foreach s,...)


def test_command_check_flags_unknown_targets_and_variables():
    targets, variables = makefile_targets(MAKEFILE_SAMPLE), makefile_variables(MAKEFILE_SAMPLE)
    good = "```bash\n$ make run-local TASK=text DATA=\"my file.csv\"   # a comment\nmake test\n```\n"
    assert command_problems(good, targets, variables) == []
    bad = (
        "make deploy in plain prose is not a command; `make shipit` in inline code is\n"
        "```\nmake deploy TASK=text\nmake run-local COLOUR=red\nmake run-local \\\n  TASK=text LOUD=1\nmake\n```\n"
        "`make run-local s=1` (a foreach loop variable is no setting)\n"
    )
    problems = command_problems(bad, targets, variables)
    assert len(problems) == 6, problems
    assert problems[0].startswith("line 1") and "no target 'shipit'" in problems[0]
    assert "no target 'deploy'" in problems[1]
    assert "no variable 'COLOUR'" in problems[2]
    assert problems[3].startswith("line 5") and "no variable 'LOUD'" in problems[3]  # continuation joined
    assert "names no target" in problems[4]
    assert problems[5].startswith("line 9") and "no variable 's'" in problems[5]


def test_link_check_flags_missing_files_anchors_and_absolute_paths(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# A page\n\n## The `make serve` target: details\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[ok](docs/page.md) [anchor](docs/page.md#the-make-serve-target-details) [here](#top)\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#nowhere) [abs](/etc/passwd)\n"
        "[web](https://example.com) `[code](docs/ignored.md)`\n"
        "```\n[fenced](docs/ignored.md)\n```\n# Top\n"
    )
    problems = link_problems(readme, readme.read_text())
    assert len(problems) == 3, problems
    assert "no file" in problems[0] and "missing.md" in problems[0]
    assert "no heading '#nowhere'" in problems[1]
    assert "not a relative link" in problems[2]
    assert reachable_pages(readme) == {readme.resolve(), (tmp_path / "docs" / "page.md").resolve()}


def test_line_limit_check_fails_on_a_long_readme(tmp_path, monkeypatch):
    long = tmp_path / "README.md"
    long.write_text("line\n" * (README_MAX_LINES + 1))
    monkeypatch.setitem(globals(), "README", long)
    with pytest.raises(AssertionError, match="201 lines"):
        test_readme_is_a_front_door_of_at_most_200_lines()
