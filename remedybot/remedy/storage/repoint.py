"""Point the app's Python code at the files' new home, in the same commit that removes them.

Without this, a Space whose `app.py` does `torch.load("models/ckpt.pt")` builds
after the move and then dies at start with FileNotFoundError: the storage fix
would trade one failure for another. preload_from_hub puts the files in the Hub
cache, not at their old paths, and a volume mounts them under /data; so each
string literal that is exactly a moved path becomes the call or path that finds
it there (`hf_hub_download(...)` answers from the preloaded cache at start).

Only exact literals are rewritten, located with `tokenize` so that nothing else
in the file changes (comments, layout, line endings); a path built at run time,
a non-Python file or an f-string is left for the report, as before. For preload
the rewrite needs huggingface_hub in the Space: the gradio SDK ships it, and
other Spaces must list a package that brings it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Any

from remedybot.remedy.storage.selection import Destination

MOUNT = "/data"
IMPORT = "from huggingface_hub import hf_hub_download"
# Distributions that install huggingface_hub with them (requirements.txt lines are matched by name).
HUB_CLIENTS = {"huggingface-hub", "huggingface_hub", "gradio", "transformers", "diffusers", "datasets",
               "sentence-transformers", "timm", "peft", "accelerate"}
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def has_hub_client(files: dict[str, str]) -> bool:
    """Whether the Space's Python environment has huggingface_hub (gradio SDK, or a requirement bringing it)."""
    readme = files.get("README.md") or ""
    if re.search(r"(?m)^sdk:\s*['\"]?gradio\b", readme.split("\n---", 1)[0]):
        return True
    for line in (files.get("requirements.txt") or "").splitlines():
        match = _REQ_NAME.match(line)
        if match and match.group(1).lower().replace("_", "-") in {n.replace("_", "-") for n in HUB_CLIENTS}:
            return True
    return False


def new_location(destination: Destination, path: str, access: str, quote: str = '"') -> str:
    """The Python expression that finds moved `path` once the commit lands."""
    if access == "volume":
        return f"{quote}{MOUNT}/{path}{quote}"
    repo_type = ', repo_type="dataset"' if destination.kind == "dataset" else ""
    return f'hf_hub_download(repo_id="{destination.repo_id}", filename="{path}"{repo_type})'


def rewrite_code(files: dict[str, str], moved: list[str], destination: Destination, access: str) -> dict[str, str]:
    """The new text of each Python file whose string literals name a moved path (only files that change).

    Empty when the access mode leaves code alone ("report"), when a bucket is not mounted, or when
    preload is chosen but the Space has no huggingface_hub to call.
    """
    if access == "volume" or (access == "preload" and destination.kind != "bucket" and has_hub_client(files)):
        out = {}
        for name, text in sorted(files.items()):
            if name.endswith(".py") and "\ufffd" not in text:  # only files read back byte for byte
                new = _rewrite_module(text, set(moved), destination, access)
                if new is not None:
                    out[name] = new
        return out
    return {}


def _literal(token: tokenize.TokenInfo) -> tuple[str, str] | None:
    """(value, quote) of a plain one-line string token; None for f/b/r-strings, triple quotes, multi-line."""
    text = token.string
    prefix = text[: len(text) - len(text.lstrip("rRbBuUfF"))]
    body = text[len(prefix):]
    if prefix.lower() not in ("", "u") or body[:3] in ('"""', "'''") or token.start[0] != token.end[0]:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return (value, body[0]) if isinstance(value, str) else None


def _rewrite_module(text: str, moved: set[str], destination: Destination, access: str) -> str | None:
    try:
        tree = ast.parse(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, ValueError, tokenize.TokenError):
        return None  # code Python cannot read is reported, not edited
    lines = text.splitlines(keepends=True)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        found = _literal(token)
        if found is None or found[0].removeprefix("./") not in moved:
            continue
        value, quote = found
        row, start = token.start
        edits.setdefault(row, []).append((start, token.end[1], new_location(destination, value.removeprefix("./"),
                                                                            access, quote)))
    if not edits:
        return None
    for row, changes in edits.items():
        line = lines[row - 1]
        for start, end, replacement in sorted(changes, reverse=True):
            line = line[:start] + replacement + line[end:]
        lines[row - 1] = line
    if access == "preload" and not _imports_hf_hub_download(tree):
        at = _import_line(tree)
        newline = "\r\n" if "\r\n" in text else "\n"
        if at > 0 and not lines[at - 1].endswith(("\n", "\r")):
            lines[at - 1] += newline
        lines.insert(at, IMPORT + newline)
    return "".join(lines)


def _imports_hf_hub_download(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.module == "huggingface_hub"
               and any(alias.name == "hf_hub_download" and alias.asname is None for alias in node.names)
               for node in tree.body)


def _import_line(tree: ast.Module) -> int:
    """The 0-based line index after the module's leading imports (after its docstring if none)."""
    at = 0
    for index, node in enumerate(tree.body):
        is_docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        if isinstance(node, ast.Import | ast.ImportFrom) or is_docstring:
            at = node.end_lineno or node.lineno
        else:
            break
    return at


def unresolved(refs: list[dict[str, Any]], destination: Destination) -> list[dict[str, Any]]:
    """The references (found in the code as it will be) that do not already point at the new location."""
    def repointed(ref: dict[str, Any]) -> bool:
        line, path = ref["text"], ref["moved"]
        return f"{MOUNT}/{path}" in line or (f'filename="{path}"' in line and destination.repo_id in line)

    return [ref for ref in refs if not repointed(ref)]
