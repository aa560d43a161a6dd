"""The sandbox Hub's state: users, repos, Spaces and their simulated runtimes.

This module owns every mutation. Routes translate HTTP to calls here and
back; the builder (pure) decides what a build does; git content lives in
bare repositories (`repostore`). One lock serialises mutations: the sandbox
favours being obviously correct over being fast.
"""

from __future__ import annotations

import json
import secrets as pysecrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from remedybot.sandbox.builder import BuildContext, BuildResult, apply_trigger, simulate_build
from remedybot.sandbox.clock import SimClock
from remedybot.sandbox.hardware import load_flavors
from remedybot.sandbox.repostore import (
    EMPTY_GITATTRIBUTES,
    GitRepo,
    LfsStore,
    RefMovedError,
    cached_git_size,
    lfs_pointer,
    parse_lfs_pointer,
)
from remedybot.sandbox.statuspage import StatusPage

REPO_TYPES = ("model", "dataset", "space")
DEFAULT_LIMIT = 10**9  # 1 GB, decimal like the Hub's message "(Max: 1 GB)"
RUNNING_STAGES = {"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING"}
# Conditions that belong to a slug, not to the files: a duplicate leaves them behind.
SLUG_BOUND = {"wedged"}


class HubStateError(Exception):
    """A request the Hub refuses; carries the HTTP status and the Hub's error headers."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def format_limit(limit: int) -> str:
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if limit >= size:
            value = limit / size
            return f"{value:g} {unit}" if value != int(value) else f"{int(value)} {unit}"
    return f"{limit} B"


@dataclass
class User:
    name: str
    token: str
    write: bool = True
    orgs: list[str] = field(default_factory=list)
    fullname: str = ""
    tier: str = "free"  # rate-limit tier (ratelimits.yaml)


@dataclass
class LfsObject:
    size: int
    pushed_at: float
    filename: str = ""


@dataclass
class Discussion:
    num: int
    title: str
    author: str
    is_pr: bool
    status: str  # open | closed | merged | draft
    created_at: float
    description: str = ""
    git_ref: str | None = None  # refs/pr/N for pull requests
    base: str = "main"  # the branch a pull request targets
    description_edited: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SpaceState:
    requested_hardware: str = "cpu-basic"
    sleep_time: int | None = None
    dev_mode: bool = False
    paused: bool = False
    conditions: dict[str, Any] = field(default_factory=dict)
    build_started: float = 0.0
    build_trigger: str = "create"
    build: BuildResult | None = None
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)  # values kept, never served
    restarts: int = 0
    factory_restarts: int = 0


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: float
    last_modified: float
    storage_limit: int = DEFAULT_LIMIT
    disabled: bool = False
    sdk: str | None = None
    lfs: dict[str, LfsObject] = field(default_factory=dict)
    discussions: list[Discussion] = field(default_factory=list)
    space: SpaceState | None = None
    scenario: str | None = None
    gated: Any = False  # False | "auto" | "manual"
    xet: bool = True  # Xet-backed storage, the Hub's default for new repos since 2025; False: legacy git-LFS

    @property
    def owner(self) -> str:
        return self.repo_id.split("/")[0]

    @property
    def key(self) -> tuple[str, str]:
        return (self.repo_type, self.repo_id)


class HubState:
    """Everything the sandbox Hub knows. Thread-safe through one re-entrant lock."""

    def __init__(self, root: Path, clock: SimClock | None = None) -> None:
        self.root = root
        self.clock = clock or SimClock()
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.orgs: dict[str, str] = {}  # organisation name -> full name
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_store = LfsStore(root / "lfs")
        self.status = StatusPage()
        self.flavors = load_flavors()
        self.incident_active = False
        self.endpoint = ""  # set by the server once it knows its port
        self.webhooks: Any = None  # the server's `webhooks.Webhooks`
        (root / "repos").mkdir(parents=True, exist_ok=True)

    # -- users and auth ------------------------------------------------------
    def add_user(self, name: str, token: str | None = None, write: bool = True, tier: str = "free") -> User:
        token = token or "hf_sandbox" + pysecrets.token_hex(16)
        user = User(name=name, token=token, write=write, tier=tier)
        with self.lock:
            self.users[name] = user
        return user

    def set_fullname(self, name: str, fullname: str) -> None:
        with self.lock:
            self.users[name].fullname = fullname

    def add_org(self, name: str, fullname: str = "", members: list[str] | None = None) -> None:
        """An organisation; its members may write to its repos."""
        with self.lock:
            self.orgs[name] = fullname or name
            for member in members or []:
                if name not in self.users[member].orgs:
                    self.users[member].orgs.append(name)

    def user_for_token(self, token: str | None) -> User | None:
        if not token:
            return None
        for user in self.users.values():
            if pysecrets.compare_digest(user.token, token):
                return user
        return None

    def may_write(self, user: User | None, repo_id: str) -> bool:
        if user is None or not user.write:
            return False
        owner = repo_id.split("/")[0]
        return owner == user.name or owner in user.orgs

    # -- repos ------------------------------------------------------------------
    def git(self, repo: Repo) -> GitRepo:
        return GitRepo(self.root / "repos" / f"{repo.repo_type}s" / repo.repo_id)

    def find(self, repo_type: str, repo_id: str) -> Repo | None:
        """The repo, matching its id without regard to case as the Hub does."""
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            wanted = repo_id.lower()
            repo = next((r for (t, rid), r in list(self.repos.items()) if t == repo_type and rid.lower() == wanted),
                        None)
        return repo

    def get(self, repo_type: str, repo_id: str, user: User | None, *, write: bool = False) -> Repo:
        """Return the repo if `user` may see it (and write to it), else raise like the Hub."""
        repo = self.find(repo_type, repo_id)
        repo_id = repo.repo_id if repo is not None else repo_id
        visible = repo is not None and (not repo.private or self.may_write(user, repo_id)
                                        or (user is not None and user.name == repo.owner))
        if not visible:
            raise HubStateError(404 if user else 401, "Repository not found", "RepoNotFound")
        assert repo is not None
        if repo.disabled:
            raise HubStateError(403, "Access to this resource is disabled.")
        if write and not self.may_write(user, repo_id):
            if user is not None and not user.write:
                raise HubStateError(403, "You have read access but not the required permissions for "
                                         "this operation.")
            raise HubStateError(403, f"You don't have the rights to modify {repo_type} {repo_id}.")
        return repo

    def create_repo(self, repo_type: str, repo_id: str, *, private: bool = False, sdk: str | None = None,
                    hardware: str | None = None, storage_limit: int | None = None,
                    initial_files: dict[str, bytes] | None = None, author: str = "system",
                    exist_ok: bool = False) -> Repo:
        with self.lock:
            existing = self.find(repo_type, repo_id)
            if existing is not None:
                if exist_ok:
                    return existing
                raise HubStateError(409, "You already created this repo", None)
            now = self.clock.now()
            repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private, created_at=now,
                        last_modified=now, storage_limit=storage_limit or DEFAULT_LIMIT, sdk=sdk)
            git = GitRepo.init(self.git(repo).path)
            files = {".gitattributes": EMPTY_GITATTRIBUTES.encode()}
            if initial_files:
                files.update(initial_files)
            git.commit("main", message="initial commit", author=author, adds=files, deletes=[])
            if repo_type == "space":
                repo.space = SpaceState(requested_hardware=hardware or "cpu-basic")
            self.repos[repo.key] = repo
            if repo.space is not None:
                self.start_build(repo, "create")
            return repo

    def delete_repo(self, repo: Repo) -> None:
        with self.lock:
            self.repos.pop(repo.key, None)
            shutil.rmtree(self.git(repo).path, ignore_errors=True)

    def move_repo(self, repo: Repo, new_id: str) -> Repo:
        with self.lock:
            if self.find(repo.repo_type, new_id) is not None:
                raise HubStateError(409, f"A {repo.repo_type} repository called {new_id} already exists")
            old_path = self.git(repo).path
            self.repos.pop(repo.key)
            repo.repo_id = new_id
            new_path = self.git(repo).path
            new_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(old_path), str(new_path))
            self.repos[repo.key] = repo
            return repo

    def duplicate(self, source: Repo, target_id: str, *, private: bool, author: str,
                  hardware: str | None = None, variables: list[dict[str, Any]] | None = None,
                  secrets: list[dict[str, Any]] | None = None) -> Repo:
        """Server-side copy: full git history and LFS objects, a new slug.

        Conditions tied to the old slug (a wedged builder) stay behind; everything
        that follows from the files or the platform comes along. Variables are
        copied, secrets are not (spaces docs).
        """
        import subprocess

        with self.lock:
            if (source.repo_type, target_id) in self.repos:
                raise HubStateError(409, "You already created this repo")
            now = self.clock.now()
            repo = Repo(repo_type=source.repo_type, repo_id=target_id, private=private, created_at=now,
                        last_modified=now, storage_limit=source.storage_limit, sdk=source.sdk)
            dest = self.git(repo).path
            dest.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "clone", "--bare", "-q", "--no-local", str(self.git(source).path),
                            str(dest)], check=True, capture_output=True)
            GitRepo(dest).git("config", "http.receivepack", "true")
            repo.lfs = {oid: LfsObject(o.size, now, o.filename) for oid, o in source.lfs.items()}
            if source.space is not None:
                conditions = {k: v for k, v in source.space.conditions.items() if k not in SLUG_BOUND}
                repo.space = SpaceState(requested_hardware=hardware or "cpu-basic", conditions=conditions)
                repo.space.variables = {k: dict(v) for k, v in source.space.variables.items()}
                for item in variables or []:
                    repo.space.variables[item["key"]] = {"value": item["value"],
                                                         "description": item.get("description"),
                                                         "updatedAt": self.clock.iso(now)}
                for item in secrets or []:
                    repo.space.secrets[item["key"]] = {"value": item["value"],
                                                       "description": item.get("description"),
                                                       "updatedAt": self.clock.iso(now)}
            self.repos[repo.key] = repo
            if repo.space is not None:
                self.start_build(repo, "create")
            return repo

    # -- storage -----------------------------------------------------------------
    def used_storage(self, repo: Repo) -> int:
        return cached_git_size(self.git(repo)) + sum(o.size for o in repo.lfs.values())

    def storage_refusal(self, repo: Repo, extra: int, *, lfs: bool) -> HubStateError | None:
        if self.used_storage(repo) + extra <= repo.storage_limit:
            return None
        limit = format_limit(repo.storage_limit)
        if lfs:
            return HubStateError(403, f"Repository storage limit reached (Max: {limit})")
        return HubStateError(403, f"Repository storage limit reached (Max: {limit})")

    def add_lfs_object(self, repo: Repo, oid: str, size: int, filename: str = "") -> None:
        with self.lock:
            if oid not in repo.lfs:
                repo.lfs[oid] = LfsObject(size=size, pushed_at=self.clock.now(), filename=filename)

    def release_lfs_object(self, oid: str) -> None:
        """Delete an LFS object from disk once no repo owns it any more."""
        with self.lock:
            if any(oid in r.lfs for r in self.repos.values()):
                return
            self.lfs_store.path(oid).unlink(missing_ok=True)

    def drop_unreferenced_lfs(self, repo: Repo) -> list[str]:
        """After a squash: forget LFS objects no ref references (the Hub frees them; we do it at once)."""
        with self.lock:
            referenced = self.git(repo).all_lfs_oids()
            dropped = [oid for oid in repo.lfs if oid not in referenced]
            for oid in dropped:
                repo.lfs.pop(oid)
                self.release_lfs_object(oid)
            return dropped

    # -- commits -----------------------------------------------------------------
    def commit(self, repo: Repo, *, user: str, message: str, adds: dict[str, bytes],
               lfs_adds: dict[str, tuple[str, int]], deletes: list[str], branch: str = "main",
               parent: str | None = None, trigger: str = "commit") -> str:
        """Commit regular files (`adds`) and LFS files (`lfs_adds`: path -> (oid, size))."""
        with self.lock:
            for path, (oid, size) in lfs_adds.items():
                if oid not in repo.lfs:
                    if not self.lfs_store.has(oid):
                        raise HubStateError(422, f"LFS object {oid} for {path} was not uploaded")
                    self.add_lfs_object(repo, oid, size, path)
                elif not repo.lfs[oid].filename:  # uploaded through the API: the path arrives now
                    repo.lfs[oid].filename = path
            refusal = self.storage_refusal(repo, sum(len(v) for v in adds.values()), lfs=False)
            if refusal:
                raise refusal
            files = dict(adds)
            files.update({path: lfs_pointer(oid, size) for path, (oid, size) in lfs_adds.items()})
            git = self.git(repo)
            before = git.head(branch)
            if parent is not None and before is not None and parent != before:
                # The Hub rebases onto a moved branch when files do not conflict; we refuse,
                # which is what huggingface_hub expects when parent_commit is stale.
                raise HubStateError(412, "The branch was updated since you opened this page. Please refresh and "
                                         "try again.")
            try:
                sha = git.commit(branch, message=message, author=user, adds=files, deletes=deletes,
                                 expected_head=before)
            except RefMovedError as exc:
                raise HubStateError(409, "A commit has happened since. Please refresh and try again.") \
                    from exc
            repo.last_modified = self.clock.now()
            if sha != before and branch == "main":
                self.on_main_moved(repo, trigger)
            return sha

    def on_main_moved(self, repo: Repo, trigger: str) -> None:
        """Every push or commit to main rebuilds a Space (spaces docs: 'every push triggers a rebuild')."""
        repo.last_modified = self.clock.now()
        if repo.space is not None:
            self.start_build(repo, trigger)

    # -- the simulated runtime ---------------------------------------------------
    def start_build(self, repo: Repo, trigger: str, *, backdate: float = 0.0, started_at: float | None = None) -> None:
        """Build `repo`'s Space now, `backdate` seconds ago, or at `started_at` (a restored build's own start)."""
        space = repo.space
        assert space is not None
        with self.lock:
            space.conditions = apply_trigger(space.conditions, trigger)
            git = self.git(repo)
            sha = git.head("main") or ""
            files = git.files_at(sha) if sha else {}
            started = self.clock.now() - backdate if started_at is None else started_at
            ctx = BuildContext(space_id=repo.repo_id, sha=sha, files=files,
                               hardware=space.requested_hardware, trigger=trigger,
                               conditions=dict(space.conditions), incident_active=self.incident_active,
                               flavors=self.flavors, started_at=started,
                               used_storage=self.used_storage(repo), storage_limit=repo.storage_limit,
                               env_keys=frozenset(space.variables) | frozenset(space.secrets))
            space.build = simulate_build(ctx)
            space.build_started = started
            space.build_trigger = trigger
            if trigger != "pause":
                space.paused = False

    def elapsed(self, repo: Repo) -> float:
        assert repo.space is not None
        return self.clock.now() - repo.space.build_started

    def runtime(self, repo: Repo) -> dict[str, Any]:
        space = repo.space
        assert space is not None and space.build is not None
        elapsed = self.elapsed(repo)
        stage = space.build.stage_at(elapsed)
        error = space.build.error_at(elapsed)
        if space.paused and stage != "PAUSED":
            stage, error = "PAUSED", None
        current = space.build.hardware_current if stage in RUNNING_STAGES else None
        requested = space.requested_hardware
        data: dict[str, Any] = {
            "stage": stage,
            "hardware": {
                "current": current,
                "requested": requested,
                "currentPrettyName": self.flavors[current].prettyName if current in self.flavors else None,
                "requestedPrettyName": self.flavors[requested].prettyName
                if requested in self.flavors else None,
            },
            "storage": None,
            "gcTimeout": space.sleep_time,
            "replicas": {"current": 1 if stage in RUNNING_STAGES else 0, "requested": 1},
            "devMode": space.dev_mode,
            "domains": [{"domain": f"{repo.repo_id.replace('/', '-')}.hf.space",
                         "stage": "READY" if stage in RUNNING_STAGES else "PENDING"}],
            "sdk": repo.sdk,
        }
        if error:
            data["errorMessage"] = error
        return data

    def logs(self, repo: Repo, which: str) -> list[tuple[str, str]]:
        """Visible log lines as (ISO timestamp, text)."""
        space = repo.space
        assert space is not None and space.build is not None
        lines = space.build.logs_at(self.elapsed(repo), which)
        return [(self.clock.iso(space.build_started + ln.offset), ln.text) for ln in lines]

    def set_hardware(self, repo: Repo, flavor: str, sleep_time: int | None = None) -> None:
        assert repo.space is not None
        if flavor not in self.flavors:
            raise HubStateError(400, f"Invalid hardware flavor: {flavor}")
        with self.lock:
            repo.space.requested_hardware = flavor
            if sleep_time is not None:
                repo.space.sleep_time = sleep_time
            self.start_build(repo, "hardware")

    def restart(self, repo: Repo, factory: bool) -> None:
        assert repo.space is not None
        if repo.sdk == "static":
            raise HubStateError(400, "Cannot restart a static Space")
        blocked = repo.space.conditions.get("blocked_rule")
        if blocked:
            raise HubStateError(403, f"This Space has been paused by Hugging Face staff: {blocked}")
        with self.lock:
            if factory:
                repo.space.factory_restarts += 1
            else:
                repo.space.restarts += 1
            self.start_build(repo, "factory" if factory else "restart")

    def pause(self, repo: Repo) -> None:
        assert repo.space is not None
        repo.space.paused = True

    # -- snapshots ---------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Observable state of every repo: what a dry run must leave untouched."""
        with self.lock:
            out = {}
            for (rtype, rid), repo in sorted(self.repos.items()):
                git = self.git(repo)
                main = git.head("main")
                entry: dict[str, Any] = {
                    "sha": main,
                    "refs": {**{f"heads/{k}": v for k, v in git.branches().items()},
                             **{f"tags/{k}": v for k, v in git.tags().items()}},
                    "files": sorted((e.path, e.oid) for e in git.tree(main)) if main else [],
                    "commits": len(git.log(main)) if main else 0,
                    "lfs": sorted(repo.lfs),
                    "private": repo.private,
                    "discussions": [(d.num, d.status) for d in repo.discussions],
                }
                if repo.space is not None:
                    entry.update({
                        "hardware": repo.space.requested_hardware,
                        "stage": self.runtime(repo)["stage"],
                        "paused": repo.space.paused,
                        "restarts": repo.space.restarts,
                        "factory_restarts": repo.space.factory_restarts,
                        "variables": sorted(repo.space.variables),
                        "secrets": sorted(repo.space.secrets),
                        "sleep_time": repo.space.sleep_time,
                        "build_started": repo.space.build_started,
                    })
                out[f"{rtype}:{rid}"] = entry
            return out

    # -- scenarios ---------------------------------------------------------------
    def load_scenario(self, scenario: Any) -> Repo:
        """Create a scenario's Space with its history, already in its failing state."""
        owner = scenario.space.split("/")[0]
        if owner not in self.users:
            self.add_user(owner)
        with self.lock:
            repo = self.create_repo("space", scenario.space, private=scenario.private, sdk=scenario.sdk,
                                    hardware=scenario.hardware, storage_limit=10**15, author=owner)
            repo.scenario = scenario.branch
            repo.xet = scenario.xet
            assert repo.space is not None
            repo.space.conditions = dict(scenario.conditions or {})
            for spec in scenario.commit_specs():
                lfs_adds = {}
                for path, data in spec.lfs_files.items():
                    oid = self.lfs_store.put_bytes(data)
                    self.add_lfs_object(repo, oid, len(data), path)
                    lfs_adds[path] = (oid, len(data))
                self.git(repo).commit("main", message=spec.message, author=owner, adds=dict(spec.files),
                                      deletes=list(spec.delete), date=spec.epoch(self.clock.now()))
                if lfs_adds:
                    self.git(repo).commit(
                        "main", message=spec.message + " (large files)", author=owner,
                        adds={p: lfs_pointer(o, s) for p, (o, s) in lfs_adds.items()}, deletes=[])
            repo.storage_limit = scenario.storage_limit or DEFAULT_LIMIT
            for component, state in (scenario.status_page or {}).items():
                self.status.degrade(component, state)
                self.incident_active = True
            if (scenario.conditions or {}).get("platform"):
                self.incident_active = True  # a platform-side failure is an incident in progress
            # Backdate the build: the Space has been sitting in this state for a day.
            self.start_build(repo, "create", backdate=86400.0)
            repo.created_at -= 86400.0 * 30
            for obj in repo.lfs.values():  # its files were pushed over that month, not just now
                obj.pushed_at -= 86400.0 * 30
            return repo

    def end_incident(self) -> None:
        with self.lock:
            self.incident_active = False
            self.status.restore()

    def start_incident(self, component: str = "Spaces", state: str = "degraded") -> None:
        with self.lock:
            self.incident_active = True
            self.status.degrade(component, state)

    # -- persistence (--state-dir) ----------------------------------------------
    def save(self) -> None:
        with self.lock:
            data = {
                "users": [u.__dict__ for u in self.users.values()],
                "orgs": self.orgs,
                "incident_active": self.incident_active,
                "repos": [_repo_to_json(r) for r in self.repos.values()],
            }
            tmp = self.root / "state.json.tmp"
            tmp.write_text(json.dumps(data))
            tmp.replace(self.root / "state.json")

    def load(self) -> bool:
        path = self.root / "state.json"
        if not path.exists():
            return False
        data = json.loads(path.read_text())
        for u in data["users"]:
            self.users[u["name"]] = User(**u)
        self.orgs.update(data.get("orgs", {}))
        self.incident_active = data.get("incident_active", False)
        for raw in data["repos"]:
            repo = _repo_from_json(raw)
            self.repos[repo.key] = repo
            if repo.space is not None:
                started = repo.space.build_started  # the same build, with the log and resolution of its start
                self.start_build(repo, repo.space.build_trigger, started_at=min(started, self.clock.now()))
                repo.space.build_started = started
        return True


def _repo_to_json(repo: Repo) -> dict[str, Any]:
    data = {k: v for k, v in repo.__dict__.items() if k not in ("space", "lfs", "discussions")}
    data["lfs"] = {oid: o.__dict__ for oid, o in repo.lfs.items()}
    data["discussions"] = [d.__dict__ for d in repo.discussions]
    if repo.space is not None:
        data["space"] = {k: v for k, v in repo.space.__dict__.items() if k != "build"}
    return data


def _repo_from_json(data: dict[str, Any]) -> Repo:
    space = data.pop("space", None)
    lfs = data.pop("lfs", {})
    discussions = data.pop("discussions", [])
    repo = Repo(**data)
    repo.lfs = {oid: LfsObject(**o) for oid, o in lfs.items()}
    repo.discussions = [Discussion(**d) for d in discussions]
    if space is not None:
        repo.space = SpaceState(**space)
    return repo


def front_matter(readme: bytes | None) -> dict[str, Any]:
    """The README's YAML front matter as a dict ({} when absent or invalid)."""
    if not readme:
        return {}
    text = readme.decode("utf-8", "replace")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end == -1:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


__all__ = ["HubState", "HubStateError", "Repo", "User", "format_limit", "front_matter", "parse_lfs_pointer"]
