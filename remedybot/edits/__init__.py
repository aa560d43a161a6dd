"""Round-trip editors for a Space's own files.

    lines.py         line endings and line-keeping splits shared by the editors
    diff.py          a unified diff per file (difflib), exactly what will be written
    frontmatter.py   README.md YAML front matter: set/add keys and repair broken lines (ruamel.yaml)
    requirements.py  requirements files: comments, markers, extras, hashes, -r includes, line endings kept
    aptfiles.py      packages.txt and the Dockerfile's apt-get lines (continuation lines kept)
    dockerfile.py    Dockerfile instructions with their line spans: USER, EXPOSE, CMD host/port
    pycode.py        what the app's Python code imports, downloads at start and binds (ast, never run)
    names.py         the data tables: import name -> PyPI distribution, removed Debian packages, versions

The commits and pull requests that carry these edits to the Hub live in remedybot/remedy/ (commit.py,
proposal.py): this package only edits text.

Every editor changes only the lines it must and re-parses its result to prove
that nothing else changed; an edit it cannot make safely raises EditError, and
the playbook then plans advice instead of a change.
"""

from __future__ import annotations


class EditError(ValueError):
    """An edit could not be made without touching more than it should; plan advice instead."""
