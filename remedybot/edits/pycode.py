"""What a Space's Python code does at start, read with `ast` (never run): imports, downloads, server binds.

Imports that run at start are the module-level ones (also inside `if`,
`with` and `for` blocks), not those under `try:` (the usual optional-import
guard) or inside functions. Downloads are calls such as
`snapshot_download("org/model")` or `from_pretrained(MODEL_ID)` whose repo id
is a literal or a module-level string constant. Binds are the host and port
literals given to gradio's `launch`, `uvicorn.run` or Flask's `app.run`, with
their exact positions so a fix can replace just that literal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from remedybot.edits import EditError
from remedybot.edits.lines import split

DOWNLOADERS = {"snapshot_download", "hf_hub_download", "from_pretrained", "pipeline", "SentenceTransformer",
               "CrossEncoder", "from_single_file", "load_model"}
REPO_KEYWORDS = {"repo_id", "model", "pretrained_model_name_or_path", "model_name_or_path", "model_id"}


@dataclass(frozen=True)
class Literal:
    """A literal in the source: its value and where it is (1-based line, 0-based character columns)."""

    value: object
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Bind:
    """A call that starts a web server, with the host and port literals it passes (None: not given)."""

    kind: str  # gradio | uvicorn | flask
    line: int
    host: Literal | None
    port: Literal | None


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _run_at_import(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.For | ast.While | ast.With):
            yield from _run_at_import(stmt.body)
            yield from _run_at_import(getattr(stmt, "orelse", []))


def imports(source: str) -> list[tuple[int, str]]:
    """(line, dotted module) of the absolute imports that run when the module is imported."""
    tree = parse(source)
    if tree is None:
        return []
    found: list[tuple[int, str]] = []
    for stmt in _run_at_import(tree.body):
        if isinstance(stmt, ast.Import):
            found += [(stmt.lineno, alias.name) for alias in stmt.names]
        elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module and stmt.module != "__future__":
            found.append((stmt.lineno, stmt.module))
    return found


def _constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            out.update({t.id: stmt.value.value for t in stmt.targets if isinstance(t, ast.Name)})
    return out


def downloads(source: str) -> list[tuple[int, str, bool]]:
    """(line, repo id, passes a token) of each Hub download the code makes; a token hints a private repo."""
    tree = parse(source)
    if tree is None:
        return []
    names = _constants(tree)
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in DOWNLOADERS:
            continue
        token = any(kw.arg in ("token", "use_auth_token") for kw in node.keywords)
        for arg in [*node.args, *(kw.value for kw in node.keywords if kw.arg in REPO_KEYWORDS)]:
            value = arg.value if isinstance(arg, ast.Constant) else names.get(getattr(arg, "id", ""))
            if (isinstance(value, str) and value.count("/") == 1 and not value.startswith((".", "/"))
                    and " " not in value and all(r != value for _, r, _ in found)):
                found.append((node.lineno, value, token))
    return sorted(found)


def _literal(node: ast.expr | None, source_lines: list[str]) -> Literal | None:
    if not isinstance(node, ast.Constant) or node.end_lineno != node.lineno or node.end_col_offset is None:
        return None
    line = source_lines[node.lineno - 1].encode()
    start = len(line[:node.col_offset].decode(errors="replace"))
    end = len(line[:node.end_col_offset].decode(errors="replace"))
    return Literal(node.value, node.lineno, start, end)


def binds(source: str) -> list[Bind]:
    """Server start calls with their host/port literals, in source order."""
    tree = parse(source)
    if tree is None:
        return []
    lines = source.splitlines()
    flask = "Flask(" in source
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, attr = node.func.value, node.func.attr
        if attr == "launch":
            kind, host_key, port_key = "gradio", "server_name", "server_port"
        elif attr == "run" and isinstance(owner, ast.Name) and owner.id == "uvicorn":
            kind, host_key, port_key = "uvicorn", "host", "port"
        elif attr == "run" and flask:
            kind, host_key, port_key = "flask", "host", "port"
        else:
            continue
        kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        host, port = _literal(kwargs.get(host_key), lines), _literal(kwargs.get(port_key), lines)
        out.append(Bind(kind, node.lineno, host, port))
    return sorted(out, key=lambda b: b.line)


def replace_literal(source: str, literal: Literal, new: object) -> str:
    """`source` with one literal replaced by `new` (repr for strings keeps the quote style)."""
    lines = split(source)
    line = lines[literal.line - 1]
    old = line[literal.start:literal.end]
    if isinstance(literal.value, str):
        quote = old[0] if old[:1] in ("'", '"') else '"'
        text = f"{quote}{new}{quote}"
    else:
        text = str(new)
    lines[literal.line - 1] = line[:literal.start] + text + line[literal.end:]
    result = "".join(lines)
    if parse(result) is None:
        raise EditError(f"replacing {old} on line {literal.line} would break the code")
    return result
