"""Docs that cannot go stale: the settings table and every ``mujun …`` line in the docs.

* README's configuration table lists exactly the settings of :data:`gis.settings.SETTINGS`,
  each with its environment variable and default.
* Every ``mujun …`` command line in README.md, DESIGN.md and docs/*.md (fenced code blocks
  and inline code spans) parses against the real command tree: each subcommand exists,
  each option is one the command declares (with its value), choices are valid, there are
  no extra arguments; a line of a code block also gives every required option and
  argument (unless it elides part of itself with ``…``), while a code span in prose may
  name a command without them (``mujun verify export`` writes a workbook).

Notation the docs use, understood here: ``# comment``; ``a ; b`` two commands; ``\\``
line continuation; ``[--opt X]`` optional parts (checked as if given); ``a|b|c`` inside a
word and ``cmd a | b | c`` (without ``mujun`` after the bar) alternatives, each checked;
ALL-CAPS words in command position (``mujun COMMAND --help``) are placeholders.

A top-level command that does not load is a failure when ``pyproject.toml`` declares it
(committed, so it must exist) or when no entry point names it at all (a typo). One that
only the installed metadata announces (a capability not landed in this checkout) is
reported in the output as not checked, and counts as neither pass nor skip: in CI the
installed metadata is the committed ``pyproject.toml``, so nothing is left unchecked there.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest

from gis.cli.main import PluginGroup, _BrokenCommand, cli
from gis.settings import SETTINGS

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", REPO / "DESIGN.md", *sorted((REPO / "docs").glob("*.md"))]


# --------------------------------------------------------------------- settings table
def settings_table(text: str) -> dict[str, list[str]]:
    """Rows of the README's configuration table: setting -> its cells."""
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 4 and cells[0] not in ("setting", "---"):
            rows[cells[0]] = cells
    return rows


def test_readme_settings_table_lists_every_setting():
    rows = settings_table((REPO / "README.md").read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(s.name for s in SETTINGS)
    for s in SETTINGS:
        _name, env, default = rows[s.name][:3]
        assert env == f"`{s.env}`", s.name
        if s.default is not None and not isinstance(s.default, bool):
            assert str(s.default) in default, f"{s.name}: default {s.default} not in {default!r}"
        if isinstance(s.default, bool):
            assert str(s.default).lower() in default.lower(), s.name


# --------------------------------------------------------------------- command lines
@dataclass
class DocLine:
    path: Path
    number: int
    text: str
    inline: bool = False    # a code span in prose names a command; it need not be complete


_FENCE = re.compile(r"^```")
_SPAN = re.compile(r"`(mujun [^`]+)`")


def command_lines(path: Path) -> list[DocLine]:
    """Every ``mujun …`` command in fenced blocks and inline code spans of a Markdown file."""
    found: list[DocLine] = []
    in_block = False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line.strip()):
            in_block = not in_block
            continue
        if in_block:
            stripped = line.strip().removeprefix("$ ")
            if pending is not None:
                start, text = pending
                text += " " + stripped
                if text.endswith("\\"):
                    pending = (start, text[:-1])
                else:
                    found.append(DocLine(path, start, text))
                    pending = None
            elif stripped.startswith("mujun "):
                if stripped.endswith("\\"):
                    pending = (number, stripped[:-1])
                else:
                    found.append(DocLine(path, number, stripped))
            continue
        found.extend(DocLine(path, number, span, inline=True) for span in _SPAN.findall(line))
    return found


def expand(text: str) -> list[list[str]]:
    """The argument lists a documented line stands for (after ``mujun``)."""
    text = text.replace("[", " ").replace("]", " ").replace("…", " ").replace("...", " ")
    try:
        words = shlex.split(text, comments=True)
    except ValueError:                       # an unbalanced quote in prose: take it literally
        words = text.split("#", 1)[0].split()
    commands: list[list[str]] = []
    current: list[str] = []
    segments: list[list[str]] = [[]]
    for word in words:
        if word == ";":
            segments.append([])
        elif word.endswith(";"):
            segments[-1].append(word[:-1])
            segments.append([])
        else:
            segments[-1].append(word)
    for segment in segments:
        if not segment:
            continue
        # "mujun db start | stop | status --json": alternatives of the last command word
        if "|" in segment:
            first = segment[:segment.index("|")]
            current = first
            commands.append(first)
            rest = segment[segment.index("|") + 1:]
            alternatives = " ".join(rest).split(" | ")
            for alt in alternatives:
                alt_words = alt.split()
                if alt_words and alt_words[0] == "mujun":
                    commands.append(alt_words)
                elif alt_words:
                    commands.append(current[:-1] + alt_words)
        else:
            commands.append(segment)
    out: list[list[str]] = []
    for command in commands:
        if command[:1] != ["mujun"]:
            continue
        variants: list[list[str]] = [[]]
        for word in command[1:]:
            if "|" in word and not word.startswith(("http", "|")):
                variants = [[*v, alt] for v in variants for alt in word.split("|") if alt]
            else:
                variants = [[*v, word] for v in variants]
        out.extend(v for v in variants if v)
    return out


def _is_placeholder(word: str) -> bool:
    return bool(re.fullmatch(r"[A-Z][A-Z_]*", word))


def check_args(command: click.Command, args: list[str], parent: click.Context | None,
               name: str, partial: bool) -> str | None:
    """Why ``args`` do not parse for ``command`` (None when they do). No value is converted."""
    ctx = click.Context(command, info_name=name, parent=parent)
    try:
        opts, rest, _ = command.make_parser(ctx).parse_args(args=list(args))
    except click.UsageError as exc:
        return f"{ctx.command_path}: {exc.format_message()}"
    for param in command.params:
        value = opts.get(param.name)
        if isinstance(param.type, click.Choice) and isinstance(value, (str, list, tuple)):
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, str) and v not in param.type.choices \
                        and not _is_placeholder(v):
                    return (f"{ctx.command_path}: {v!r} is not a choice of "
                            f"{param.opts[-1] if param.opts else param.name} "
                            f"({', '.join(map(str, param.type.choices))})")
    # an eager option that answers and exits (--help, --version, a listing) needs nothing else
    eager = {opt for p in command.params if isinstance(p, click.Option) and p.is_eager
             for opt in p.opts}
    help_asked = any(a in ("--help", "-h") or a in eager for a in args)
    if isinstance(command, click.Group):
        if rest:
            sub_name = rest[0]
            if _is_placeholder(sub_name):
                return None
            sub = command.get_command(ctx, sub_name)
            if sub is None:
                return f"{ctx.command_path}: no subcommand {sub_name!r}"
            return check_args(sub, rest[1:], ctx, sub_name, partial)
        if not command.invoke_without_command and not help_asked and not partial:
            return f"{ctx.command_path}: needs a subcommand"
        return None
    if rest and not ctx.allow_extra_args:
        return f"{ctx.command_path}: unexpected extra arguments {rest}"
    if not partial and not help_asked:
        for param in command.params:
            if param.required and not isinstance(opts.get(param.name), (str, list, tuple)):
                return f"{ctx.command_path}: missing {param.get_error_hint(ctx)}"
    return None


def pyproject_commands() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return set(project["entry-points"]["mujun.commands"])


def test_doc_lines_are_found():
    lines = [line for path in DOCS for line in command_lines(path)]
    assert len(lines) > 50
    assert any("footprints extract" in line.text for line in lines)
    assert expand("mujun db start | stop | status --json # cluster") == \
        [["db", "start"], ["db", "stop"], ["db", "status", "--json"]]
    assert expand("mujun demo --size small|city --seed N ; mujun db backup x.dump") == \
        [["demo", "--size", "small", "--seed", "N"], ["demo", "--size", "city", "--seed", "N"],
         ["db", "backup", "x.dump"]]


def test_a_stale_line_is_caught():
    """The checker fails the kinds of staleness it is for."""
    root = click.Context(cli, info_name="mujun")

    def why(text: str) -> str | None:
        (args,) = expand(text)
        return check_args(cli, args, None, "mujun", partial="…" in text)

    assert why("mujun occupancy --engine vector --processes 2") is None
    assert "no subcommand 'statu'" in why("mujun db statu")
    assert "No such option" in why("mujun occupancy --engin vector")
    assert "'spark' is not a choice" in why("mujun occupancy --engine spark")
    assert "extra arguments" in why("mujun db status now")
    assert "missing" in why("mujun footprints extract --ndsm a.tif")
    assert why("mujun footprints extract … --load") is None
    assert root.command is cli


def test_every_documented_command_line_parses(capsys):
    declared = pyproject_commands()
    announced = {ep.name for ep in entry_points(group=PluginGroup.group_name)}
    root = click.Context(cli, info_name="mujun")
    failures, unchecked, checked = [], [], 0
    for path in DOCS:
        for line in command_lines(path):
            where = f"{path.relative_to(REPO)}:{line.number}: {line.text}"
            for args in expand(line.text):
                top = next((a for a in args if not a.startswith("-")), None)
                if top is None or _is_placeholder(top):
                    continue
                command = cli.get_command(root, top)
                if command is None or isinstance(command, _BrokenCommand):
                    if top in declared or top not in announced:
                        failures.append(f"{where}\n    command {top!r} does not load")
                    else:
                        unchecked.append(f"{where} ({top} not in this checkout)")
                    continue
                problem = check_args(cli, args, None, "mujun", partial=line.inline
                                     or "…" in line.text or "..." in line.text)
                checked += 1
                if problem:
                    failures.append(f"{where}\n    {problem}")
    with capsys.disabled():
        for note in unchecked:
            print("not checked:", note)
    assert checked > 50
    assert not failures, "stale command lines in the docs:\n" + "\n".join(failures)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_docs_link_to_files_that_exist(path):
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


# --------------------------------------------------------------------- quoted messages
def message_templates() -> str:
    """Every string literal of the code (f-string fields as ``{}``), plus the shell scripts."""
    import ast

    out: list[str] = []
    for package in ("gis", "parcels", "remote_sensing", "scoring", "maps", "sample"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    out.append(node.value)
                elif isinstance(node, ast.JoinedStr):
                    out.append("".join(v.value if isinstance(v, ast.Constant) else "{}"
                                       for v in node.values))
    out.extend(p.read_text(encoding="utf-8") for p in (REPO / "scripts").glob("*.sh"))
    return "\n".join(out)


def _pattern(fragment: str) -> str:
    """A quoted fragment as a regex over templates: numbers and quoted names may be fields."""
    out = []
    for piece in re.split(r"((?<![\w.])\d[\d,.]*\d|(?<![\w.])\d|'[^']*')", fragment):
        if not piece:
            continue
        if piece[0].isdigit():
            out.append(r"(?:\{\}|(?<![\d.])" + re.escape(piece) + r"(?![\d]))")
        elif piece.startswith("'"):
            out.append(r"(?:\{\}|" + re.escape(piece) + ")")
        else:
            out.append(re.escape(piece))
    return "".join(out)


def test_troubleshooting_quotes_messages_the_code_prints():
    """Each message quoted in README's troubleshooting is one the code prints: between the
    elisions (``…``), its words stand in one message template, numbers and quoted names
    where the template has them or a field; a message built from several templates is
    matched piece by piece, each piece ending a template or meeting a field of it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    quotes = re.findall(r"\*\*[^*]*?`([^`]+)`[^*]*?\*\*", section)
    assert len(quotes) >= 10
    code = message_templates()

    def found(fragment: str, joined: bool = False) -> bool:
        start = r"(?:\n|\{\})" if joined else ""
        if re.search(start + _pattern(fragment), code):
            return True
        for m in re.finditer(" ", fragment):
            head, rest = fragment[:m.end()], fragment[m.end():]
            if rest and re.search(start + _pattern(head) + r"(?:\{\}|\n)", code) \
                    and found(rest, joined=True):
                return True
        return False

    for quote in quotes:
        for fragment in re.split(r"…|\.\.\.", quote):
            fragment = fragment.strip()
            if len(fragment) >= 6:
                assert found(fragment), f"README quotes {quote!r}; no message reads {fragment!r}"
    assert not found("port 5433 is already in use")       # the stale quote it caught


# --------------------------------------------------------------------- stated sizes
@pytest.mark.parametrize(("size", "seed", "low", "high"),
                         [("small", 1, 340 * 0.99, 520 * 1.01), ("small", 3, 340 * 0.99, 520 * 1.01),
                          ("city", 1, 99_700, 105_200)])
def test_sample_sizes_are_as_the_readme_states(size, seed, low, high):
    from sample.config import SIZES
    from sample.layout import parcel_count

    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "340–520" in text and "99,700–105,200" in text
    assert low <= parcel_count(SIZES[size], seed) <= high


def test_design_names_only_tables_a_migration_creates():
    # migrations, and the migration runner's own bookkeeping table
    sql = "\n".join(p.read_text(encoding="utf-8")
                    for p in [*sorted((REPO / "gis" / "db" / "sql").glob("*.sql")),
                              REPO / "gis" / "db" / "migrations.py"])
    tables = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql))
    columns = set(re.findall(r"^\s+(\w+)\s+(?:big|small)?(?:serial|int|integer|text|double|real|"
                             r"date|timestamptz|boolean|jsonb|geometry|char|bytea|numeric)",
                             sql, flags=re.M | re.I))
    columns |= set(re.findall(r"ADD COLUMN (?:IF NOT EXISTS )?(\w+)", sql))
    design = (REPO / "DESIGN.md").read_text(encoding="utf-8")
    section = design.split("## The database", 1)[1].split("\n## ", 1)[0]
    section = section[section.index("are numbered migrations"):]   # the schema, not the modules
    named = {n for n in re.findall(r"`([a-z][a-z0-9_]*)`", section)}
    unknown = sorted(n for n in named if n not in tables | columns
                     and not re.fullmatch(r"\d{4}_\w+", n))
    assert not unknown, f"DESIGN.md names tables no migration creates: {unknown}"
    assert {"survey", "candidate", "app_user"} <= named & tables
