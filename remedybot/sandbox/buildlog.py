"""The words of the simulated builder: build and run log lines that read like the real ones.

A classifier trained on the sandbox must work on real Spaces, so the text
copies the real formats (BuildKit `--> RUN ...` steps with `DONE 12.3s`,
pip's and apt's own output, Python tracebacks, Gradio/Uvicorn/Gunicorn
start-up lines) and includes their usual noise: pip's upgrade notice, the
root-user warning, the non-fatal dependency-resolver "ERROR:", library
deprecation warnings. The fatal line is never the only line with "error".

Every "random" choice (versions, sizes, speeds) is derived from a hash of
its inputs, so the same commit always produces the same log. This module
formats; it decides nothing about outcomes (builder.py does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from remedybot.sandbox.launch import Listener
from remedybot.sandbox.spacefiles import rules

PIP_NOTICE = ("", "[notice] A new release of pip is available: 24.0 -> 25.3",
              "[notice] To update, run: pip install --upgrade pip")
ROOT_WARNING = (
    "WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with "
    "the system package manager, possibly rendering your system unusable. It is recommended to use a virtual "
    "environment instead: https://pip.pypa.io/warnings/venv. Use the --root-user-action option if you know "
    "what you are doing and want to suppress this warning.")
RESOLVER_NOISE = (
    "ERROR: pip's dependency resolver does not currently take into account all the packages that are "
    "installed. This behaviour is the source of the following dependency conflicts.")
DEPRECATIONS = (
    "/usr/local/lib/python{py}/site-packages/gradio/components/chatbot.py:291: UserWarning: You have not "
    "specified a value for the `type` parameter. Defaulting to the 'tuples' format for chatbot messages, but "
    "this is deprecated and will be removed in a future version of Gradio. Please set type='messages' "
    "instead, which uses openai-style dictionaries with 'role' and 'content' keys.",
    "/usr/local/lib/python{py}/site-packages/huggingface_hub/file_download.py:797: FutureWarning: "
    "`resume_download` is deprecated and will be removed in version 1.0.0. Downloads always resume when "
    "possible. If you want to force a new download, use `force_download=True`.",
)
BAR = "━" * 40


@dataclass
class LogLine:
    """One log line; `offset` is in simulated seconds after the build started."""

    offset: float
    text: str


@dataclass
class LogWriter:
    """Appends lines at a moving simulated time."""

    t: float = 0.0
    lines: list[LogLine] = field(default_factory=list)

    def emit(self, *texts: str, dt: float = 0.02) -> None:
        for text in texts:
            self.lines.append(LogLine(round(self.t, 3), text))
            self.t += dt

    def wait(self, seconds: float) -> None:
        self.t += seconds


def digest(*parts: object) -> int:
    """A stable pseudo-random integer from its inputs (for versions, sizes, speeds)."""
    return int.from_bytes(hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()[:8], "big")


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def queued_header(started_at: float, sha: str) -> str:
    return f"===== Build Queued at {_stamp(started_at)} / Commit SHA: {sha[:7]} ====="


def startup_header(t: float) -> str:
    return f"===== Application Startup at {_stamp(t)} ====="


def image_digest(name: str) -> str:
    return hashlib.sha256(f"image:{name}".encode()).hexdigest()


def wheel(name: str) -> tuple[str, float]:
    """(version, size in MB) pip shows for a distribution."""
    known = rules()["wheels"].get(name)
    if known:
        return str(known[0]), float(known[1])
    h = digest("wheel", name)
    return f"{h % 4}.{h // 7 % 20}.{h // 11 % 10}", round(0.1 + (h // 13 % 400) / 100, 1)


def _wheel_file(name: str, version: str, size: float, py: str) -> str:
    stem = name.replace("-", "_")
    if name not in rules()["compiled_wheels"]:
        return f"{stem}-{version}-py3-none-any.whl"
    tag = f"cp{py.replace('.', '')[:3]}"
    return f"{stem}-{version}-{tag}-{tag}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


def pip_install(log: LogWriter, requested: list[tuple[str, str, int | None]], source: str | None,
                present: set[str], py: str, resolved: dict[str, str] | None = None) -> None:
    """pip's output for installing `requested` (display text, canonical name, requirements line).

    `resolved` holds the versions the package index gave at the build's date (pkgindex.py).
    """
    new: list[tuple[str, str, float]] = []
    for text, name, lineno in requested:
        origin = f" (from -r {source} (line {lineno}))" if source and lineno else ""
        version, size = wheel(name)
        version = (resolved or {}).get(name, version)
        if "==" in text:  # a pin decides the version pip downloads
            version = text.split("==", 1)[1].split(";")[0].split(",")[0].strip() or version
        if name in present:
            log.emit(f"Requirement already satisfied: {text} in /usr/local/lib/python{py}/site-packages"
                     f"{origin} ({version})")
            continue
        log.emit(f"Collecting {text}{origin}", f"  Downloading {_wheel_file(name, version, size, py)}"
                 f".metadata ({max(2, digest('meta', name) % 40)} kB)")
        new.append((name, version, size))
    for name, version, size in new:
        speed = 80 + digest("speed", name) % 220
        log.emit(f"Downloading {_wheel_file(name, version, size, py)} ({size} MB)")
        log.emit(f"   {BAR} {size}/{size} MB {speed}.{digest('s', name) % 10} MB/s eta 0:00:00",
                 dt=size / speed + 0.05)
    if new:
        log.emit("Installing collected packages: " + ", ".join(n for n, _, _ in new), dt=1.5 + len(new) * 0.4)
        if any(n == "torch" for n, _, _ in new):
            log.emit(RESOLVER_NOISE, "gradio 5.9.1 requires huggingface-hub>=0.25.1, but you have "
                     "huggingface-hub 0.24.7 which is incompatible.")
        log.emit("Successfully installed " + " ".join(f"{n}-{v}" for n, v, _ in new))
    log.emit(ROOT_WARNING, *PIP_NOTICE)


def pip_conflict(log: LogWriter, requested: list[str], causes: list[str]) -> None:
    """pip's ResolutionImpossible report."""
    log.emit(f"ERROR: Cannot install {', '.join(requested[:-1])} and {requested[-1]} because these "
             "package versions have conflicting dependencies.", "", "The conflict is caused by:")
    log.emit(*(f"    {cause}" for cause in causes))
    log.emit("", "To fix this you could try to:", "1. loosen the range of package versions you've specified",
             "2. remove package versions to allow pip to attempt to solve the dependency conflict", "",
             "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/"
             "dependency-resolution/#dealing-with-dependency-conflicts", *PIP_NOTICE)


def apt_install(log: LogWriter, packages: list[str]) -> list[str]:
    """apt's output for `apt-get update && apt-get install`; returns the packages it cannot install."""
    release = rules()["debian_release"]
    removed = rules()["removed_apt_packages"]
    log.emit(f"Get:1 http://deb.debian.org/debian {release} InRelease [140 kB]",
             f"Get:2 http://deb.debian.org/debian {release}-updates InRelease [47.3 kB]",
             f"Get:3 http://deb.debian.org/debian-security {release}-security InRelease [43.4 kB]",
             f"Get:4 http://deb.debian.org/debian {release}/main amd64 Packages [9670 kB]", dt=0.4)
    log.emit("Fetched 9901 kB in 1s (7802 kB/s)", "Reading package lists...", "Reading package lists...",
             "Building dependency tree...", "Reading state information...", dt=0.3)
    missing = [p for p in packages if p in removed]
    for package in missing:
        log.emit(f"Package {package} is not available, but is referred to by another package.",
                 "This may mean that the package is missing, has been obsoleted, or",
                 "is only available from another source")
        replacement = removed[package].get("replacement")
        if replacement:
            log.emit("However the following packages replace it:", f"  {replacement}")
        log.emit("")
    if missing:
        log.emit(*(f"E: Package '{p}' has no installation candidate" for p in missing))
        return missing
    count = len(packages) * 3 + digest("apt", *packages) % 20
    log.emit("The following NEW packages will be installed:", "  " + " ".join(packages),
             f"0 upgraded, {count} newly installed, 0 to remove and 0 not upgraded.",
             f"Need to get {count * 412} kB of archives.", dt=0.5)
    log.emit(*(f"Setting up {p} ..." for p in packages), dt=0.4)
    log.emit("Processing triggers for libc-bin (2.41-12) ...")
    return []


def step(log: LogWriter, instruction: str) -> None:
    log.emit("", f"--> {instruction}")


def done(log: LogWriter, seconds: float) -> None:
    log.wait(seconds)
    log.emit(f"DONE {seconds:.1f}s")


def failed_step(log: LogWriter, command: str, code: int) -> None:
    """BuildKit's failure line; the shell command is shown without RUN's --mount flags."""
    words = command.split(" ")
    while words and words[0].startswith("--"):
        words.pop(0)
    log.emit("", f'--> ERROR: process "/bin/sh -c {" ".join(words)}" did not complete successfully: '
                 f"exit code: {code}")


def registry_push_failure(space_id: str, sha: str, gpu: bool) -> str:
    """The registry's 401 when a platform incident breaks image pushes (huggingface_hub#3017)."""
    image = hashlib.sha256(f"space:{space_id}".encode()).hexdigest()[:24]
    suffix = "".join(chr(97 + digest("tag", sha, i) % 26) for i in range(8))
    tag = f"{'gpu' if gpu else 'cpu'}-{sha[:7]}-{suffix}"
    return (f"--> ERROR: failed to push spaces-registry.huggingface.tech/spaces/{image}:{tag}: unexpected "
            f"status from HEAD request to https://spaces-registry.huggingface.tech/v2/spaces/{image}/"
            f"manifests/{tag}: 401 Unauthorized")


def traceback(frames: list[tuple[str, int, str]], exception: str, caret: str | None = None,
              server: str | None = None, py: str = "3.10") -> list[str]:
    """A Python traceback through `frames` (file, line, source text) ending in `exception`."""
    lines = ["Traceback (most recent call last):"]
    if server in ("uvicorn", "gunicorn"):
        lines += [f'  File "/usr/local/bin/{server}", line 8, in <module>', "    sys.exit(run())" if
                  server == "gunicorn" else "    sys.exit(main())",
                  f'  File "/usr/local/lib/python{py}/importlib/__init__.py", line 126, in import_module',
                  "    return _bootstrap._gcd_import(name[level:], package, level)",
                  '  File "<frozen importlib._bootstrap>", line 1050, in _gcd_import',
                  '  File "<frozen importlib._bootstrap_external>", line 883, in exec_module']
    if caret is not None:  # a SyntaxError shows the offending line and a caret, no "in <module>"
        *outer, (path, lineno, text) = frames
        for opath, olineno, otext in outer:
            lines += [f'  File "{opath}", line {olineno}, in <module>', f"    {otext}"]
        return [*lines, f'  File "{path}", line {lineno}', f"    {text.strip()}", f"    {caret}", exception]
    for path, lineno, text in frames:
        lines += [f'  File "{path}", line {lineno}, in <module>', f"    {text}"]
    return [*lines, exception]


def server_start(listener: Listener, when: float) -> list[str]:
    """What the server prints once it listens (`when`: simulated epoch, for servers that timestamp)."""
    host, port = listener.host, listener.port
    stamp = datetime.fromtimestamp(when, tz=UTC).strftime("[%Y-%m-%d %H:%M:%S +0000]")
    if listener.server == "uvicorn":
        return ["INFO:     Started server process [1]", "INFO:     Waiting for application startup.",
                "INFO:     Application startup complete.",
                f"INFO:     Uvicorn running on http://{host}:{port} (Press CTRL+C to quit)"]
    if listener.server == "gunicorn":
        return [f"{stamp} [1] [INFO] Starting gunicorn 23.0.0",
                f"{stamp} [1] [INFO] Listening at: http://{host}:{port} (1)",
                f"{stamp} [1] [INFO] Using worker: sync", f"{stamp} [7] [INFO] Booting worker with pid: 7"]
    if listener.server == "flask":
        return [" * Serving Flask app 'app'", " * Debug mode: off",
                "WARNING: This is a development server. Do not use it in a production deployment. "
                "Use a production WSGI server instead.", f" * Running on http://{host}:{port}",
                "Press CTRL+C to quit"]
    if listener.server == "streamlit":
        return ["", "Collecting usage statistics. To deactivate, set browser.gatherUsageStats to false.", "",
                "", "  You can now view your Streamlit app in your browser.", "",
                f"  URL: http://{host}:{port}", ""]
    return [f"* Running on local URL:  http://{host}:{port}", "",
            "To create a public link, set `share=True` in `launch()`."]


def download_progress(log: LogWriter, repo: str, seconds: float, every: float = 300.0) -> None:
    """tqdm progress of a large snapshot download lasting `seconds` (one line every `every` seconds)."""
    total = 4 + digest("shards", repo) % 4
    size = round(3.5 + (digest("size", repo) % 60) / 100, 2)
    log.emit(f"Fetching {total} files:   0%|          | 0/{total} [00:00<?, ?it/s]")
    steps = max(1, int(seconds // every))
    for i in range(1, steps + 1):
        fraction = min(i * every / seconds, 0.99) if seconds else 1.0
        done_gb = size * fraction
        elapsed = int(i * every)
        bar = ("█" * int(fraction * 10)).ljust(10)
        log.wait(every)
        log.emit(f"model-00001-of-{total:05d}.safetensors: {int(fraction * 100):3d}%|{bar}| "
                 f"{done_gb:.2f}G/{size}G [{elapsed // 60:02d}:{elapsed % 60:02d}<"
                 f"{int(seconds - elapsed) // 60:02d}:{int(seconds - elapsed) % 60:02d}, "
                 f"{done_gb * 1000 / max(elapsed, 1):.2f}MB/s]")
