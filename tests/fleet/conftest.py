"""Fleet fixtures: Spaces made straight in the sandbox's state (fast), healthy or failing on purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from remedybot.sandbox.server import Sandbox

README = b"---\ntitle: Echo\nsdk: gradio\nsdk_version: 5.9.1\napp_file: app.py\n---\n"
APP = b"import gradio as gr\n\ngr.Interface(lambda text: text, 'text', 'text').launch()\n"
# Builder conditions (remedybot/sandbox/builder.py) for each way a made Space fails.
FAILURES: dict[str, dict[str, Any]] = {
    "wedged": {"wedged": True},
    "no_capacity": {"no_capacity": ["cpu-basic"]},
    "memory": {"memory_gb": 100},
    "unknown": {"unknown": True},
}


def add_space(sb: Sandbox, space_id: str, failure: str | None = None) -> None:
    """Create a healthy gradio Space; with `failure`, rebuild it under that condition."""
    repo = sb.state.create_repo("space", space_id, sdk="gradio", author="demo",
                                initial_files={"README.md": README, "app.py": APP})
    if failure is not None:
        assert repo.space is not None
        repo.space.conditions.update(FAILURES[failure])
        sb.state.start_build(repo, "restart")


def rewedge(sb: Sandbox, space_id: str) -> None:
    """Put a Space back in the wedged state (the builder loses it again)."""
    repo = sb.state.find("space", space_id)
    assert repo is not None and repo.space is not None
    repo.space.conditions["wedged"] = True
    sb.state.start_build(repo, "restart")
    settle(sb)


def settle(sb: Sandbox) -> None:
    """Let every build reach its final stage (the sandbox clock jumps an hour)."""
    sb.state.clock.advance(3600)


@pytest.fixture
def fleet(empty_sandbox: Sandbox) -> Callable[..., Sandbox]:
    """`fleet(healthy=2, wedged=3, ...)`: the empty sandbox with demo/ok-N and demo/<failure>-N Spaces."""

    def make(healthy: int = 0, **failing: int) -> Sandbox:
        for n in range(healthy):
            add_space(empty_sandbox, f"demo/ok-{n}")
        for failure, count in failing.items():
            for n in range(count):
                add_space(empty_sandbox, f"demo/{failure.replace('_', '-')}-{n}", failure)
        settle(empty_sandbox)
        return empty_sandbox

    return make
