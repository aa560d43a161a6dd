"""The storage engine behind the history_slim playbook (repo_too_large).

    inventory.py   what takes the Space's storage: usedStorage vs limit, LFS objects, HEAD files,
                   large blobs in history (git filter-repo --analyze on a fresh mirror clone)
    selection.py   pure: what moves, what is purged, what is left alone and why
    backup.py      git bundle of a mirror clone + every LFS object a step will delete, sha256-checked
    move.py        server-side copies into a model/dataset repo or a bucket, sha256 verification,
                   the Space commit that drops moved files, how the app gets them back
    slim.py        the destructive part: purge, squash, rewrite + force-push, each behind its guards
    gitio.py       authenticated git clones and pushes (token in a header, never in a URL)
    planning.py    the history_slim plan: backup, copy, verify, commit, purge/squash/rewrite, rebuild
    repoint.py     exact path literals in the app's code that must follow the moved files
    steps.py       each step's operation and how it tells it already took effect (resume)

Nothing here decides on its own to delete: the playbook passes the exact objects a
person approved, and `slim.py` re-checks the live Hub before every deletion.
"""
