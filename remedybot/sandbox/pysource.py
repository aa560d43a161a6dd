"""What the simulated builder learns from a Space's Python code, by reading it (never running it).

The builder needs a handful of facts a real container would discover by
starting the app: which modules are imported when the app starts, whether a
file even parses, which host and port the server binds, which environment
variables are read unconditionally, which Hub repos are downloaded at start.
All of it comes from `ast`, statically; code under `try:` and inside
functions is treated as not running at import, which is what makes
`try: import x except ImportError` safe in a real Space too.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_DOWNLOADERS = {"snapshot_download", "hf_hub_download", "from_pretrained", "pipeline",
                "SentenceTransformer", "load_dataset"}
_REPO_KEYWORDS = {"repo_id", "model", "pretrained_model_name_or_path", "model_name_or_path", "path"}
# Calls that open a local file named by their first argument (torch.load, np.load, open, pd.read_csv, ...).
_FILE_READERS = {"open", "load", "load_file", "load_model", "from_file", "read_csv", "read_parquet", "read_json",
                 "ZipFile", "safe_open"}


@dataclass(frozen=True)
class ImportRef:
    """A module-level import: the line, the top-level package name and the statement as written."""

    lineno: int
    module: str
    text: str


@dataclass(frozen=True)
class ServerCall:
    """A call that starts a web server: gradio `launch`, `uvicorn.run`, Flask `app.run`."""

    kind: str  # "gradio" | "uvicorn" | "flask"
    lineno: int
    host: str | None  # None: the argument was not given
    port: int | None


@dataclass(frozen=True)
class Crash:
    """Why importing a module fails at start, with what Python would print for it."""

    lineno: int
    text: str  # the source line
    exception: str  # last traceback line, e.g. "KeyError: 'API_TOKEN'"
    caret: str | None = None  # SyntaxError caret line


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def syntax_error(source: str) -> Crash | None:
    """The SyntaxError a module raises at import, as Python reports it, or None."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        line = (exc.text or "").rstrip("\n")
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        return Crash(lineno=exc.lineno or 1, text=line, exception=f"SyntaxError: {exc.msg}", caret=caret)
    return None


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import: the body and its if/with/for blocks, not try bodies or functions."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.For | ast.While | ast.With):
            yield from _module_level(stmt.body)
            yield from _module_level(getattr(stmt, "orelse", []))


def _line(source: str, lineno: int) -> str:
    lines = source.splitlines()
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def module_imports(source: str) -> list[ImportRef]:
    """Absolute imports executed when the module is imported, in source order."""
    tree = parse(source)
    if tree is None:
        return []
    refs = []
    for stmt in _module_level(tree.body):
        if isinstance(stmt, ast.Import):
            refs.extend(ImportRef(stmt.lineno, alias.name.split(".")[0], _line(source, stmt.lineno))
                        for alias in stmt.names)
        elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
            refs.append(ImportRef(stmt.lineno, stmt.module.split(".")[0], _line(source, stmt.lineno)))
    return refs


def _walk_shallow(stmt: ast.stmt) -> Iterator[ast.AST]:
    """Nodes of one statement's own expressions, not descending into nested blocks or functions."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try):
        return
    todo: list[ast.AST] = []
    for name, value in ast.iter_fields(stmt):
        if name not in ("body", "orelse", "handlers", "finalbody"):
            values = value if isinstance(value, list) else [value]
            todo += [node for node in values if isinstance(node, ast.AST)]
    while todo:  # like ast.walk, but a lambda's body does not run at import
        node = todo.pop()
        if isinstance(node, ast.Lambda):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _is_os_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ"
            and isinstance(node.value, ast.Name) and node.value.id == "os")


def _missing_file(node: ast.AST, files: Collection[str]) -> str | None:
    """The relative path a file-reading call names, when the repo has no such file (None otherwise)."""
    if not (isinstance(node, ast.Call) and node.args):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    arg = node.args[0]
    if name not in _FILE_READERS or not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        return None
    path = arg.value.removeprefix("./")
    if not path or path.startswith(("/", "~")) or "://" in path or "." not in path.rsplit("/", 1)[-1]:
        return None
    return None if path in files else arg.value


def import_crash(source: str, env_keys: frozenset[str], files: Collection[str] | None = None) -> Crash | None:
    """The first exception importing the module raises by itself: a SyntaxError, an unset
    `os.environ["KEY"]` (a secret nobody set), an unconditional top-level `raise`, or (given the
    repo's `files`) a file read at import from a relative path the repo does not hold — what a Space
    sees after its large files moved elsewhere with the code still pointing at them."""
    error = syntax_error(source)
    if error is not None:
        return error
    tree = parse(source)
    assert tree is not None
    for stmt in _module_level(tree.body):
        if isinstance(stmt, ast.Raise) and stmt in tree.body and stmt.exc is not None:
            return Crash(stmt.lineno, _line(source, stmt.lineno), _raised(stmt.exc))
        for node in _walk_shallow(stmt):
            if (isinstance(node, ast.Subscript) and _is_os_environ(node.value)
                    and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
                    and node.slice.value not in env_keys and isinstance(node.ctx, ast.Load)):
                return Crash(node.lineno, _line(source, node.lineno), f"KeyError: {node.slice.value!r}")
            missing = _missing_file(node, files) if files is not None else None
            if missing is not None:
                return Crash(node.lineno, _line(source, node.lineno),
                             f"FileNotFoundError: [Errno 2] No such file or directory: {missing!r}")
    return None


def _raised(exc: ast.expr) -> str:
    if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name):
        args = [a.value for a in exc.args if isinstance(a, ast.Constant)]
        return f"{exc.func.id}: {args[0]}" if args else exc.func.id
    return ast.unparse(exc)


def _value(node: ast.expr | None, env: Mapping[str, str]) -> Any:
    """A literal or an environment lookup with a default (`int(os.getenv("PORT", 7860))`), else None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("int", "str") and node.args:
            inner = _value(node.args[0], env)
            try:
                return int(inner) if name == "int" and inner is not None else inner
            except (TypeError, ValueError):
                return None
        is_lookup = name == "getenv" or (name == "get" and isinstance(func, ast.Attribute)
                                         and _is_os_environ(func.value))
        if is_lookup and node.args and isinstance(node.args[0], ast.Constant):
            default = _value(node.args[1], env) if len(node.args) > 1 else None
            return env.get(str(node.args[0].value), default)
    return None


def server_calls(source: str, env: Mapping[str, str]) -> list[ServerCall]:
    """Calls that start a server, with the host and port they bind (when given literally or via env)."""
    tree = parse(source)
    if tree is None:
        return []
    is_flask = "Flask(" in source
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        owner = node.func.value
        if node.func.attr == "launch":
            kind, host_key, port_key = "gradio", "server_name", "server_port"
        elif node.func.attr == "run" and isinstance(owner, ast.Name) and owner.id == "uvicorn":
            kind, host_key, port_key = "uvicorn", "host", "port"
        elif node.func.attr == "run" and is_flask:
            kind, host_key, port_key = "flask", "host", "port"
        else:
            continue
        host = _value(kwargs.get(host_key), env)
        port = _value(kwargs.get(port_key), env)
        calls.append(ServerCall(kind, node.lineno, str(host) if host is not None else None,
                                int(port) if isinstance(port, int | str) and str(port).isdigit() else None))
    return sorted(calls, key=lambda c: c.lineno)


def downloaded_repos(source: str) -> list[str]:
    """Hub repo ids the code downloads (`snapshot_download("org/x")`, `from_pretrained("org/x")`, ...)."""
    tree = parse(source)
    if tree is None:
        return []
    repos: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in _DOWNLOADERS:
            continue
        candidates = list(node.args) + [kw.value for kw in node.keywords if kw.arg in _REPO_KEYWORDS]
        for arg in candidates:
            if (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.count("/") == 1
                    and not arg.value.startswith((".", "/")) and arg.value not in repos):
                repos.append(arg.value)
    return repos
