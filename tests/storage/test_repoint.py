"""Pointing the app's code at moved files: exact literals only, every other byte kept."""

from __future__ import annotations

from remedybot.remedy.storage.repoint import IMPORT, rewrite_code, unresolved
from remedybot.remedy.storage.selection import Destination
from remedybot.sandbox import pysource

ASSETS = Destination("model", "alice/demo-assets")
GRADIO = "---\ntitle: x\nsdk: gradio\n---\n"
CALL = 'hf_hub_download(repo_id="alice/demo-assets", filename="models/c.pt")'


def test_preload_rewrites_the_literal_and_adds_the_import_after_the_imports() -> None:
    app = ('"""A digit classifier."""\r\nimport torch  # weights\r\n\r\n'
           "model = torch.load('./models/c.pt')\r\nOTHER = 'models/c.pt.bak'\r\nname = f\"models/c.pt\"\r\n")
    out = rewrite_code({"README.md": GRADIO, "app.py": app}, ["models/c.pt"], ASSETS, "preload")
    assert out["app.py"] == ('"""A digit classifier."""\r\nimport torch  # weights\r\n' + IMPORT + "\r\n\r\n"
                             f"model = torch.load({CALL})\r\nOTHER = 'models/c.pt.bak'\r\n"
                             'name = f"models/c.pt"\r\n')


def test_an_existing_import_is_not_repeated_and_dataset_repos_say_so() -> None:
    app = f'{IMPORT}\nimport numpy as np\nx = np.load("data/x.npy")\n'
    out = rewrite_code({"README.md": GRADIO, "app.py": app}, ["data/x.npy"], Destination("dataset", "a/d"), "preload")
    assert out["app.py"].count(IMPORT) == 1
    assert 'np.load(hf_hub_download(repo_id="a/d", filename="data/x.npy", repo_type="dataset"))' in out["app.py"]


def test_volume_keeps_the_quote_style_and_needs_no_client() -> None:
    app = "import torch\nm = torch.load('models/c.pt')\n"
    out = rewrite_code({"README.md": "---\nsdk: docker\n---\n", "app.py": app}, ["models/c.pt"], ASSETS, "volume")
    assert out == {"app.py": "import torch\nm = torch.load('/data/models/c.pt')\n"}


def test_left_alone_when_it_cannot_be_done_safely() -> None:
    app = "import torch\nm = torch.load('models/c.pt')\n"
    docker = {"README.md": "---\nsdk: docker\n---\n", "requirements.txt": "torch\n", "app.py": app}
    assert rewrite_code(docker, ["models/c.pt"], ASSETS, "preload") == {}  # no huggingface_hub to call
    assert rewrite_code({**docker, "requirements.txt": "torch\ntransformers>=4\n"}, ["models/c.pt"], ASSETS,
                        "preload")  # transformers brings it
    assert rewrite_code({"README.md": GRADIO, "app.py": app}, ["models/c.pt"], ASSETS, "report") == {}
    assert rewrite_code({"README.md": GRADIO, "app.py": "m = load('models/c.pt'\n"}, ["models/c.pt"], ASSETS,
                        "preload") == {}  # does not parse: reported, not edited
    assert rewrite_code({"README.md": GRADIO, "app.py": "x = '\ufffd'\nm = load('models/c.pt')\n"}, ["models/c.pt"],
                        ASSETS, "preload") == {}  # not read back byte for byte


def test_only_references_not_yet_repointed_are_reported() -> None:
    refs = [{"file": "app.py", "line": 3, "text": f"m = torch.load({CALL})", "moved": "models/c.pt"},
            {"file": "util.py", "line": 1, "text": 'P = BASE + "c.pt"', "moved": "models/c.pt"}]
    assert [r["file"] for r in unresolved(refs, ASSETS)] == ["util.py"]


def test_the_sandbox_app_dies_on_a_file_it_no_longer_has() -> None:
    """The simulated start reads what the real one would: a relative path the repo lacks is FileNotFoundError."""
    app = "import torch\nimport os\nmodel = torch.load('models/c.pt')\nif os.getenv('X'):\n    pass\n"
    crash = pysource.import_crash(app, frozenset(), files={"app.py": b""})
    assert crash is not None and crash.lineno == 3
    assert crash.exception == "FileNotFoundError: [Errno 2] No such file or directory: 'models/c.pt'"
    assert pysource.import_crash(app, frozenset(), files={"models/c.pt": b""}) is None
    for fine in (f"import torch\nm = torch.load({CALL})\n", "m = open('/data/models/c.pt')\n",
                 "def f():\n    return open('models/c.pt')\n", "x = open('https://x.org/a.txt')\n"):
        assert pysource.import_crash(fine, frozenset(), files={}) is None, fine
