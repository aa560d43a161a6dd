"""The end-to-end demonstration behind `make demo`, run on a fresh sandbox Hub.

It starts the embedded sandbox (nothing leaves 127.0.0.1), points remedybot
at it through the same environment variables a user would set for the real
Hub, and walks through what remedybot does. Each issue extends it.
"""

from __future__ import annotations

import os
import sys
import tempfile


def run_demo() -> int:
    """Run the demonstration; returns the exit code."""
    from rich.console import Console
    from rich.table import Table

    from remedybot.sandbox.server import Sandbox

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    home = tempfile.mkdtemp(prefix="remedybot-demo-")
    with Sandbox() as sandbox:
        os.environ.update(sandbox.env())
        os.environ["HF_HOME"] = home  # never touch the user's own token or cache
        os.environ["REMEDYBOT_HOME"] = home
        console.print(f"[bold]Sandbox Hub[/] at {sandbox.endpoint} (user 'demo'; status page "
                      f"{sandbox.status_url})")
        from remedybot.hub import Hub

        hub = Hub()
        spaces = hub.list_spaces("demo")
        table = Table(title="Spaces of 'demo' on the sandbox Hub", show_lines=False)
        table.add_column("Space")
        table.add_column("Stage")
        table.add_column("Hardware")
        table.add_column("Error message", overflow="fold", max_width=70)
        for info in spaces:
            runtime = hub.runtime(info.id)
            hardware = runtime.get("hardware") or {}
            error = (runtime.get("errorMessage") or "").strip().splitlines()
            table.add_row(info.id, runtime.get("stage", "?"), hardware.get("requested") or "-",
                          error[-1] if error else "")
        console.print(table)
        components = hub.status_page()
        from remedybot.hub import aggregate_state

        console.print(f"Status page: [bold]{aggregate_state(components)}[/]")
    console.print("Sandbox stopped cleanly.")
    return 0
