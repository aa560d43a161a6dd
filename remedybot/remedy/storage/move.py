"""Moving large files out of a Space: server-side copy, sha256 proof, the Space commit, app access.

The copy never downloads and re-uploads: into a model or dataset repo it is a
commit of `CommitOperationCopy` (the Hub duplicates the LFS/Xet objects through
`lfs-files/duplicate`), into a bucket a `copyFile` batch by Xet hash. The proof is
not the Hub's word: every copied file is streamed back from the destination and
hashed; only a matching sha256 counts as verified.

How the app finds the files afterwards (`access`):
- `preload`: `preload_from_hub` in the README front matter (public model repos only;
  edited as a YAML round trip, so comments and key order stay);
- `volume`: the destination mounted at /data (a bucket read-write, a repo read-only);
- `report`: nothing changes; every code line naming a moved path is listed with the call to use.
With preload and volume, the same commit repoints exact path literals in the code (repoint.py).
"""

from __future__ import annotations

import difflib
from io import StringIO
from typing import TYPE_CHECKING, Any

from remedybot.core.errors import HubError, refusal
from remedybot.core.progress import progress_bar
from remedybot.remedy.storage.inventory import format_size
from remedybot.remedy.storage.selection import Destination

if TYPE_CHECKING:
    from remedybot.hub import Hub

MOUNT = "/data"
SKIP_REFERENCES = ("README.md", ".gitattributes")


# -- planning helpers (pure) ----------------------------------------------------------------
def preload_entry(destination: Destination, paths: list[str]) -> str:
    """One `preload_from_hub` line: "repo f1,f2" (just "repo" when a path cannot be listed)."""
    if any("," in p or " " in p for p in paths):
        return destination.repo_id
    return f"{destination.repo_id} {','.join(sorted(paths))}"


def readme_with_preload(readme: str | None, entry: str) -> str | None:
    """The README with `entry` in its front matter's preload_from_hub (None: no front matter to edit)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq

    if not readme or not readme.startswith("---"):
        return None
    end = readme.find("\n---", 3)
    if end == -1:
        return None
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load(readme[4:end + 1])
    if not isinstance(data, dict):
        return None
    repo = entry.split(" ", 1)[0]
    current = data.get("preload_from_hub")
    if current is None:
        data["preload_from_hub"] = CommentedSeq([entry])
    else:
        kept = [e for e in current if str(e).split(" ", 1)[0] != repo or str(e) == entry]
        if entry in kept:
            return readme
        current.clear()
        current.extend([*kept, entry])
    out = StringIO()
    yaml.dump(data, out)
    return "---\n" + out.getvalue() + readme[end + 1:]


def readme_diff(before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), "a/README.md",
                                        "b/README.md"))


def replacement(destination: Destination, path: str, access: str) -> str:
    """What code should use instead of the moved local path."""
    if access == "volume" or destination.kind == "bucket":
        return f'"{MOUNT}/{path}"' + ("" if access == "volume" else f" after mounting bucket "
                                                                    f"'{destination.repo_id}' at {MOUNT}")
    repo_type = ', repo_type="dataset"' if destination.kind == "dataset" else ""
    return f'hf_hub_download(repo_id="{destination.repo_id}", filename="{path}"{repo_type})'


def code_references(files: dict[str, str], moves: list[dict[str, Any]], destination: Destination,
                    access: str) -> list[dict[str, Any]]:
    """Every line of the Space's text files that names a moved path, with what to use instead."""
    found = []
    for name, text in sorted(files.items()):
        if name in SKIP_REFERENCES:
            continue
        for lineno, line in enumerate(text.splitlines(), start=1):
            for move in moves:
                base = move["path"].rsplit("/", 1)[-1]
                if move["path"] in line or (len(base) >= 5 and "." in base and base in line):
                    found.append({"file": name, "line": lineno, "text": line.strip()[:200], "moved": move["path"],
                                  "use": replacement(destination, move["path"], access)})
                    break
    return found


# -- copy and verify -------------------------------------------------------------------------
def check_copyable(space_id: str, destination: Destination, files: list[dict[str, Any]]) -> None:
    """Refuse, before anything is created or copied, files the Hub cannot copy on the server.

    The Hub copies into a repo (`lfs-files/duplicate`) or a bucket (`copyFile`) only by Xet hash;
    a file in legacy git-LFS storage has none (SAFETY.md, "Xet and legacy LFS").

    Raises:
        RefusedError: a file has no Xet hash; nothing was changed. Move it by hand, or re-plan once
            the Hub lists a Xet hash for it.
    """
    legacy = [f["path"] for f in files if not f.get("xet_hash")]
    if legacy:
        raise refusal(f"copy {len(files)} files of Space '{space_id}' to {destination.label}",
                      f"the Hub lists no Xet hash for {', '.join(legacy[:3])} (legacy git-LFS storage), and it copies "
                      "files on the server only by Xet hash",
                      "Nothing was changed; re-plan once the Hub has migrated them to Xet, or move them by hand")


def create_destination(hub: Hub, destination: Destination, *, private: bool) -> None:
    if destination.kind == "bucket":
        hub.create_bucket(destination.repo_id, private=private)
    else:
        hub.create_repo(destination.repo_id, repo_type=destination.kind, private=private, exist_ok=True)


def copy_files(hub: Hub, space_id: str, destination: Destination, files: list[dict[str, Any]], *,
               revision: str, message: str) -> None:
    """Server-side copy of `files` (at `revision` of the Space) to the same paths in the destination.

    Raises:
        HubError: the Hub refused or failed the copy; nothing was deleted anywhere, re-run to retry.
    """
    from huggingface_hub import CommitOperationCopy
    from huggingface_hub.errors import FileDuplicationError

    total = sum(f["size"] for f in files)
    with progress_bar(f"Copying {len(files)} files ({format_size(total)}) to {destination.label}"):
        if destination.kind == "bucket":
            failed = hub.bucket_copy(destination.repo_id, [
                {"path": f["path"], "xetHash": f["xet_hash"], "sourceRepoType": "space", "sourceRepoId": space_id}
                for f in files])
            if failed:
                raise HubError(f"Cannot copy into {destination.label}: {len(failed)} files failed "
                               f"({failed[0].get('error') or failed[0]}).")
            return
        ops = [CommitOperationCopy(src_path_in_repo=f["path"], path_in_repo=f["path"], src_repo_id=space_id,
                                   src_repo_type="space", src_revision=revision) for f in files]
        try:
            hub.create_commit(destination.repo_id, ops, message, repo_type=destination.kind)
        except FileDuplicationError as exc:
            raise HubError(f"Cannot copy files from Space '{space_id}' into {destination.label}: "
                           f"{str(exc).splitlines()[-1].strip()}.") from exc


def missing_in_destination(hub: Hub, destination: Destination, files: list[dict[str, Any]]) -> list[str]:
    """Paths the destination does not hold with the expected content (by its metadata)."""
    paths = [f["path"] for f in files]
    if destination.kind == "bucket":
        info = hub.bucket_paths_info(destination.repo_id, paths)
        return [f["path"] for f in files if (info.get(f["path"]) or {}).get("xetHash") != f["xet_hash"]
                or int((info.get(f["path"]) or {}).get("size", -1)) != f["size"]]
    info = hub.paths_info(destination.repo_id, paths, repo_type=destination.kind)
    return [f["path"] for f in files if ((info.get(f["path"]) or {}).get("lfs") or {}).get("oid") != f["oid"]]


def verify_files(hub: Hub, destination: Destination, files: list[dict[str, Any]]) -> list[str]:
    """Stream every file back from the destination and hash it; returns what did not match (empty: all did)."""
    problems = []
    total = sum(f["size"] for f in files)
    with progress_bar(f"Verifying {len(files)} files in {destination.label} (sha256)", total,
                      in_bytes=True) as bar:
        for f in files:
            url = hub.bucket_resolve_url(destination.repo_id, f["path"]) if destination.kind == "bucket" \
                else hub.resolve_url(destination.repo_id, destination.kind, f["path"])
            digest, size = hub.stream_sha256(url, what=f"download '{f['path']}' from", repo_id=destination.repo_id,
                                            repo_type=destination.kind, progress=bar.advance)
            if digest != f["oid"] or size != f["size"]:
                problems.append(f"{f['path']}: sha256 {digest[:12]} ({size} bytes), expected {f['oid'][:12]} "
                                f"({f['size']} bytes)")
    return problems


# -- the Space side -------------------------------------------------------------------------
def commit_space(hub: Hub, space_id: str, *, delete: list[str], readme: str | None, parent: str,
                 message: str, body: str, code: dict[str, str] | None = None) -> str:
    """One commit in the Space: drop the moved files, write the README when it changes and the code files
    repointed at the new location (repoint.py). Returns its sha.

    `parent` makes it a compare-and-swap: if someone pushed since planning, the Hub answers 412.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    ops: list[Any] = [CommitOperationDelete(path_in_repo=p) for p in delete]
    if readme is not None:
        ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=readme.encode()))
    for path, text in sorted((code or {}).items()):
        ops.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=text.encode("utf-8", "surrogateescape")))
    info = hub.create_commit(space_id, ops, message, description=body, parent_commit=parent)
    return str(getattr(info, "oid", "") or "")
