"""`remedybot lint`: the diagnosis checks on a local Space checkout, before a push breaks it.

Two sources of findings, each `file:line: message [branch]`, the branch being
the failure the problem would cause on the Hub:

* the signature catalog's file checks, run on an Evidence made of the
  checkout's files (no runtime, no logs): README front matter the Hub rejects,
  an sdk_version never released, an app_file that is not there, a server on a
  port other than app_port or on 127.0.0.1, a tunnel the abuse handler blocks;
* checks that need the whole checkout or the file-fix tables: imports no
  requirement provides, Debian packages the base image no longer has (or
  near-miss typos), models downloaded at start without preload_from_hub, a
  Dockerfile that runs as root instead of user 1000 or EXPOSEs ports but not
  app_port, and files the Hub's pre-receive hook rejects (over 10 MB, or
  binary, when not tracked by LFS/Xet in .gitattributes).

Reading only: nothing in the checkout changes. A Dockerfile without any
EXPOSE is fine (the Hub's own template has none); one that EXPOSEs other
ports than app_port is flagged, since that is a port mismatch in the making.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from remedybot.diagnose.catalog.scan import Context, scan
from remedybot.diagnose.catalog.schema import load_catalog
from remedybot.diagnose.collect import CONFIG_FILES
from remedybot.edits import aptfiles, dockerfile, names, pycode, requirements
from remedybot.model.evidence import Evidence, front_matter

MAX_FILE_BYTES = 10 * 1024 * 1024  # the pre-receive hook's limit for files outside LFS/Xet
MAX_TEXT_BYTES = 1_000_000
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True)
class Finding:
    """One problem: where, what to do about it, and the failure branch it would cause."""

    file: str
    line: int
    message: str
    branch: str
    check: str

    def render(self) -> str:
        return f"{self.file}:{self.line}: {self.message} [{self.branch}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Checkout:
    """The files of a local Space checkout: paths, sizes, text of the small text files, LFS tracking."""

    root: Path
    paths: list[str]
    sizes: dict[str, int]
    texts: dict[str, str]
    binary: set[str]
    lfs: set[str]

    @classmethod
    def read(cls, root: Path) -> Checkout:
        paths = _list_files(root)
        sizes, texts, binary = {}, {}, set()
        for rel in paths:
            full = root / rel
            sizes[rel] = full.stat().st_size
            with open(full, "rb") as fh:
                head = fh.read(8000)
            if b"\0" in head:
                binary.add(rel)
            elif sizes[rel] <= MAX_TEXT_BYTES and (rel in CONFIG_FILES or rel.endswith((".py", ".txt"))):
                texts[rel] = full.read_bytes().decode("utf-8", "replace")
        return cls(root, paths, sizes, texts, binary, _lfs_tracked(root, paths))


def _list_files(root: Path) -> list[str]:
    """Files a push would send: git's view (tracked + untracked, not ignored) in a repo, else a walk."""
    if (root / ".git").exists():
        import git

        try:
            listed = git.Repo(root).git.ls_files("-co", "--exclude-standard", "-z")
            return sorted(p for p in listed.split("\0") if p and (root / p).is_file())
        except git.GitCommandError:
            pass
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        out += [os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/") for f in filenames
                if os.path.isfile(os.path.join(dirpath, f))]
    return sorted(out)


def _lfs_tracked(root: Path, paths: list[str]) -> set[str]:
    """Paths .gitattributes sends through LFS/Xet (`filter=lfs`): git's own answer in a repo."""
    if (root / ".git").exists() and paths:
        import git

        try:
            repo, tracked = git.Repo(root), set()
            for start in range(0, len(paths), 500):  # keep each command line short
                out = repo.git.check_attr("filter", "--", *paths[start:start + 500])
                tracked |= {line.split(": ")[0] for line in out.splitlines() if line.endswith(": filter: lfs")}
            return tracked
        except git.GitCommandError:
            pass
    patterns = []
    for rel in [p for p in paths if p.rsplit("/", 1)[-1] == ".gitattributes"]:
        base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        for line in (root / rel).read_text(errors="replace").splitlines():
            parts = line.split()
            if parts and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
                patterns.append((base, parts[0]))
    return {p for p in paths for base, pat in patterns if p.startswith(base) and _gitmatch(p[len(base):], pat)}


def _gitmatch(path: str, pattern: str) -> bool:
    if "/" not in pattern.strip("/"):
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern.lstrip("/").replace("**/", "*"))


def lint_path(root: Path) -> list[Finding]:
    """Every finding for the checkout at `root`, in file and line order."""
    return lint_checkout(Checkout.read(root))


def lint_checkout(co: Checkout) -> list[Finding]:
    evidence = Evidence(space_id="local/checkout", info={"siblings": co.paths},
                        files={p: t for p, t in co.texts.items() if p in CONFIG_FILES or p.endswith(".py")})
    meta = front_matter(evidence)["meta"]
    sdk = evidence.sdk or ("docker" if "Dockerfile" in co.paths else "gradio")
    found = [*_catalog(evidence), *_imports(co, sdk, meta), *_apt(co), *_downloads(co, meta, sdk),
             *_docker(co, meta, sdk), *_repo(co)]
    unique = {(f.file, f.line, f.branch, f.message): f for f in found}
    return sorted(unique.values(), key=lambda f: (f.file, f.line, f.branch))


def _catalog(evidence: Evidence) -> list[Finding]:
    out = []
    for hit in scan(Context(evidence), load_catalog()):
        if not hit.source.startswith(("files/", "info.siblings")):
            continue
        file = hit.source.removeprefix("files/") if hit.source.startswith("files/") else "README.md"
        detail = hit.culprit.get("problem") or ", ".join(f"{k} {v}" for k, v in hit.culprit.items()
                                                        if not isinstance(v, list))
        out.append(Finding(file, hit.line, hit.signature.summary + (f" ({detail})" if detail else ""),
                           hit.branch, hit.signature.id))
    return out


def _installed(co: Checkout, sdk: str) -> set[str]:
    """Distributions the build installs: requirement files (with -r includes) or the Dockerfile's pip lines."""
    if sdk == "docker":
        dists, files = dockerfile.pip_installs(co.texts.get("Dockerfile", ""))
    else:
        dists, files = set(), ["pre-requirements.txt", "requirements.txt"]
    todo, seen = list(files), set()
    while todo:
        path = todo.pop()
        if path in seen or path not in co.texts:
            continue
        seen.add(path)
        dists |= requirements.names(co.texts[path])
        todo += [p.removeprefix("./") for p in requirements.includes(co.texts[path])]
    return dists


def _entry_files(co: Checkout, meta: dict[str, Any], sdk: str) -> list[str]:
    if sdk in ("gradio", "streamlit"):
        app = str(meta.get("app_file") or "app.py")
        return [app] if app in co.texts else []
    cmd = dockerfile.command(co.texts.get("Dockerfile", ""))
    words = [w.text.strip("[],\"'") for w in cmd.words] if cmd else []
    entry = [w.removeprefix("./") for w in words if w.endswith(".py")]
    entry += [w.split(":")[0].replace(".", "/") + ".py" for w in words if ":" in w and not w.startswith(("-", "0"))]
    found = [p for p in entry if p in co.texts]
    return found or sorted(p for p in co.texts if p.endswith(".py") and "/" not in p)


def _imports(co: Checkout, sdk: str, meta: dict[str, Any]) -> list[Finding]:
    """Imports that run at start and that nothing installed provides (followed through the repo's modules)."""
    if sdk == "static":
        return []
    local = {p.split("/")[0].removesuffix(".py") for p in co.paths}
    provided = names.provided_imports(_installed(co, sdk), sdk)
    out, todo, seen = [], _entry_files(co, meta, sdk), set()
    docker_reqs = "requirements.txt" in dockerfile.pip_installs(co.texts.get("Dockerfile", ""))[1]
    target = "the Dockerfile's pip install" if sdk == "docker" and not docker_reqs else "requirements.txt"
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        for line, module in pycode.imports(co.texts.get(path, "")):
            top = module.split(".")[0]
            if top in local:
                parts = module.split(".")
                todo += [c for n in range(len(parts), 0, -1) for c in ("/".join(parts[:n]) + ".py",
                         "/".join(parts[:n]) + "/__init__.py") if c in co.texts]
            elif not names.is_provided(module, provided, local):
                dist = names.distribution_for(module)
                out.append(Finding(path, line, f"imports {top}, but nothing installed provides it: add {dist} "
                                               f"to {target}", "dependency", "import_not_installed"))
    return out


def _apt(co: Checkout) -> list[Finding]:
    out = []
    release = names.table("debian_packages")["release"]
    for path in (aptfiles.PACKAGES_TXT, aptfiles.DOCKERFILE):
        for word in aptfiles.package_words(path, co.texts.get(path, "")):
            gone, replacement = names.apt_replacement(word.text)
            if gone:
                what = f"use {replacement}" if replacement else "drop it"
                out.append(Finding(path, word.line + 1, f"{word.text} is not in Debian {release} (the Spaces "
                                   f"base image), apt exits 100: {what}", "apt_package", "apt_removed"))
            elif (typo := names.apt_near_miss(word.text)) is not None:
                out.append(Finding(path, word.line + 1, f"{word.text} is not a Debian package; did you mean "
                                   f"{typo}?", "apt_package", "apt_typo"))
    return out


def _downloads(co: Checkout, meta: dict[str, Any], sdk: str) -> list[Finding]:
    if sdk == "static":
        return []
    preloaded = {str(p).split()[0] for p in meta.get("preload_from_hub") or [] if str(p).split()}
    out = []
    for path in sorted(p for p in co.texts if p.endswith(".py")):
        for line, repo, token in pycode.downloads(co.texts[path]):
            if not token and repo not in preloaded:
                out.append(Finding(path, line, f"downloads {repo} when the app starts; a large model can outlast "
                                   "startup_duration_timeout: add it to preload_from_hub in README.md",
                                   "unhealthy_startup", "download_at_start"))
    return out


def _docker(co: Checkout, meta: dict[str, Any], sdk: str) -> list[Finding]:
    text = co.texts.get("Dockerfile")
    if sdk != "docker" or text is None:
        return []
    out = []
    user = dockerfile.effective_user(text)
    stage = dockerfile.final_stage(text)
    if user is None:
        line = stage[0].first + 1 if stage else 1
        out.append(Finding("Dockerfile", line, "the container runs as root, but Spaces run it as user 1000 (files "
                           "made at build time may not be writable): add 'RUN useradd -m -u 1000 user' and "
                           "'USER user'", "startup_crash", "docker_user"))
    elif (uid := dockerfile.uid_of(text, user)) is not None and uid != 1000:
        line = next(ins.first for ins in reversed(stage) if ins.keyword == "USER") + 1
        out.append(Finding("Dockerfile", line, f"USER {user} is uid {uid}, but Spaces run the container as uid "
                           "1000", "startup_crash", "docker_user"))
    port = meta.get("app_port") if isinstance(meta.get("app_port"), int) else 7860
    ports = dockerfile.exposed(text)
    if ports and port not in [p for p, _ in ports]:
        out.append(Finding("Dockerfile", ports[0][1] + 1, f"EXPOSEs {', '.join(str(p) for p, _ in ports)} but not "
                           f"app_port {port}, where Hugging Face checks the app", "port_mismatch", "docker_expose"))
    return out


def _repo(co: Checkout) -> list[Finding]:
    out = []
    for path in co.paths:
        if path in co.lfs:
            continue
        if co.sizes[path] > MAX_FILE_BYTES:
            out.append(Finding(path, 1, f"{co.sizes[path] / 1e6:.1f} MB and not tracked by LFS/Xet: the Hub "
                               "rejects files over 10 MB (track it in .gitattributes: git lfs track)",
                               "repo_too_large", "large_file"))
        elif path in co.binary:
            out.append(Finding(path, 1, "binary and not tracked by LFS/Xet: the Hub's pre-receive hook rejects "
                               "it (track it in .gitattributes: git lfs track)", "repo_too_large", "binary_file"))
    return out
