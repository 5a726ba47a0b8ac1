"""Shell blocks split into commands: argv, placeholders, $(...) parts, SQL, HTTP calls, kubectl."""

from __future__ import annotations

import re
import shlex

from drillbook.runbook._model import Command, HttpCall, KubectlRef, Placeholder, SqlStatement

__all__ = ["BlockLine", "parse_command", "split_block"]

_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9-]*)>")
_SUBST = re.compile(r"\$\(([^()]*)\)")
BlockLine = tuple[int, str]  # (line number, text)


def split_block(lines: list[BlockLine]) -> list[tuple[int, str, str, int]]:
    """Join backslash continuations; return ``(line, kind, text, indent)`` (command or comment)."""
    out: list[tuple[int, str, str, int]] = []
    pending: tuple[int, str, int] | None = None
    for number, raw in lines:
        text = raw.strip()
        if pending is not None:
            start, acc, indent = pending
            acc = acc + " " + text.rstrip("\\").strip()
            if text.endswith("\\"):
                pending = (start, acc, indent)
            else:
                out.append((start, "command", acc, indent))
                pending = None
            continue
        if not text:
            continue
        indent = len(raw) - len(raw.lstrip())
        if text.startswith("#"):
            out.append((number, "comment", text.lstrip("#").strip(), indent))
        elif text.endswith("\\"):
            pending = (number, text.rstrip("\\").strip(), indent)
        else:
            out.append((number, "command", text, indent))
    if pending is not None:
        out.append((pending[0], "command", pending[1], pending[2]))
    return out


def _strip_comment(text: str) -> tuple[str, str]:
    """Split a trailing ``# comment`` off a command, respecting quotes."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1 :].strip()
    return text, ""


def _sql(argv: list[str], line: int) -> tuple[SqlStatement, ...]:
    if "psql" not in argv:
        return ()
    statements: list[SqlStatement] = []
    for i, arg in enumerate(argv):
        if arg == "-c" and i + 1 < len(argv):
            for part in _split_sql(argv[i + 1]):
                statements.append(SqlStatement(part, part.startswith("\\"), line))
    return tuple(statements)


def _split_sql(sql: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch == "'":
            quote = ch
        elif ch == ";":
            if "".join(current).strip():
                parts.append("".join(current).strip() + ";")
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _http(argv: list[str], line: int) -> HttpCall | None:
    if "curl" not in argv:
        return None
    tail = argv[argv.index("curl") + 1 :]
    url = next((a for a in tail if a.startswith(("http://", "https://"))), None)
    if url is None:
        return None
    method = tail[tail.index("-X") + 1] if "-X" in tail[:-1] else None
    body = tail[tail.index("-d") + 1] if "-d" in tail[:-1] else None
    return HttpCall(method or ("POST" if body is not None else "GET"), url, body, line)


def _kubectl(argv: list[str]) -> KubectlRef | None:
    if not argv or argv[0] != "kubectl" or len(argv) < 2:
        return None
    verb, rest = argv[1], argv[2:]
    namespace = selector = None
    positional: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            break
        if arg in ("-n", "--namespace") and i + 1 < len(rest):
            namespace, i = rest[i + 1], i + 2
            continue
        if arg in ("-l", "--selector") and i + 1 < len(rest):
            selector, i = rest[i + 1], i + 2
            continue
        if arg.startswith("--namespace="):
            namespace = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            if arg in (
                "-p",
                "-f",
                "-o",
                "-c",
                "--from",
                "--tail",
                "--timeout",
                "--for",
            ) and i + 1 < len(rest):
                i += 1
        else:
            positional.append(arg)
        i += 1
    resource = name = None
    if verb in ("rollout", "set", "create", "top") and positional:
        positional = positional[1:] if verb != "top" else positional
    if positional:
        first = positional[0]
        if "/" in first:
            resource, name = first.split("/", 1)
        else:
            resource = first
            name = positional[1] if len(positional) > 1 and "=" not in positional[1] else None
    interactive = any(a in ("-it", "-ti") or a == "--stdin" for a in argv)
    return KubectlRef(verb, resource, name, namespace, selector, interactive)


def parse_command(text: str, line: int, indent: int = 0) -> Command:
    """Parse one command line; raises ValueError (with the reason) for unbalanced quotes."""
    body, comment = _strip_comment(text)
    argv = shlex.split(body)
    placeholders = tuple(
        Placeholder(m.group(1), line, indent + m.start() + 1) for m in _PLACEHOLDER.finditer(body)
    )
    return Command(
        text=body,
        line=line,
        tool=argv[0] if argv else "",
        argv=tuple(argv),
        placeholders=placeholders,
        substitutions=tuple(m.group(0) for m in _SUBST.finditer(body)),
        sql=_sql(argv, line),
        http=_http(argv, line),
        kubectl=_kubectl(argv),
        comment=comment,
    )
