"""The signature catalog: strict loading, and every published example classifies to its own branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from remedybot.diagnose.catalog.schema import (
    BLIND_SPOTS,
    BRANCH_IDS,
    CatalogError,
    Example,
    Signature,
    load_branches,
    load_catalog,
)
from remedybot.diagnose.classify import classify
from remedybot.model.evidence import Evidence

CATALOG = load_catalog()
EXAMPLES = [pytest.param(sig, i, ex, id=f"{sig.id}-{i}") for sig in CATALOG.signatures
            for i, ex in enumerate(sig.examples)]

GOOD_ENTRY = """
  - id: my_signature
    summary: A line that means something
    branch: dependency
    match:
      - {field: run_log, pattern: 'No module named (?P<module>\\S+)'}
    weight: 0.9
    fatal: true
    culprit: [module]
    examples:
      - source_url: https://example.org/issue/1
        evidence: {run_log: ["No module named cv2"]}
"""


def write_catalog(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "custom-signatures.yaml"
    path.write_text("version: 1\nsignatures:\n" + entry, encoding="utf-8")
    return path


def test_packaged_catalog_loads_once_and_covers_every_failure_branch() -> None:
    assert load_catalog() is CATALOG
    branches = {s.branch for s in CATALOG.signatures}
    assert set(BRANCH_IDS) - branches == {"healthy"}


def test_branch_table_has_meaning_and_next_step_for_every_branch() -> None:
    table = load_branches()
    assert set(table) == set(BRANCH_IDS)
    assert "stuck on Hugging Face's side" in table["wedged_space"].meaning
    assert all(b.meaning and b.next_step for b in table.values())


def test_a_well_formed_custom_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, GOOD_ENTRY))
    assert [s.id for s in catalog.signatures] == ["my_signature"]


@pytest.mark.parametrize(("change", "phrase"), [
    (("    fatal: true\n", "    fatal: true\n    weigth: 0.3\n"), "weigth"),
    (("branch: dependency", "branch: python_trouble"), "unknown branch id 'python_trouble'"),
    (("{field: run_log,", "{field: stdout,"), "unknown field 'stdout'"),
    (("pattern: 'No module named (?P<module>\\S+)'", "pattern: 'No module named ('"), "does not compile"),
    (("culprit: [module]", "culprit: [package]"), "culprit group 'package'"),
    (("https://example.org/issue/1", "github-index-file:123"), "source_url"),
    (("    examples:\n", "    examples: []\n    unused:\n"), "unused"),
])
def test_loader_rejects_bad_entries_naming_the_file_and_entry(tmp_path: Path, change: tuple[str, str],
                                                              phrase: str) -> None:
    entry = GOOD_ENTRY.replace(*change)
    assert entry != GOOD_ENTRY
    path = write_catalog(tmp_path, entry)
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    message = err.value.message
    assert str(path) in message
    assert "'my_signature'" in message
    assert phrase in message


def test_loader_rejects_unknown_check_and_duplicate_ids(tmp_path: Path) -> None:
    checked = GOOD_ENTRY.replace("{field: run_log, pattern: 'No module named (?P<module>\\S+)'}",
                                 "{check: read_minds}").replace("    culprit: [module]\n", "")
    with pytest.raises(CatalogError, match="unknown check 'read_minds'"):
        load_catalog(write_catalog(tmp_path, checked))
    with pytest.raises(CatalogError, match="duplicate id 'my_signature'"):
        load_catalog(write_catalog(tmp_path, GOOD_ENTRY + GOOD_ENTRY))


def test_branch_table_rejects_unknown_and_missing_ids(tmp_path: Path) -> None:
    path = tmp_path / "branches.yaml"
    path.write_text("branches:\n  wedged:\n    title: t\n    meaning: m\n    next_step: n\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"branches\.yaml: entry 'wedged': unknown branch id"):
        load_branches(path)
    path.write_text("branches:\n  healthy:\n    title: t\n    meaning: m\n    next_step: n\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="missing branch ids"):
        load_branches(path)


def test_every_signature_has_a_one_line_summary_and_a_real_source() -> None:
    for sig in CATALOG.signatures:
        assert "\n" not in sig.summary
        assert all(ex.source_url.startswith(("https://", "http://")) for ex in sig.examples)


@pytest.mark.parametrize(("signature", "index", "example"), EXAMPLES)
def test_every_example_classifies_to_its_signature_branch(signature: Signature, index: int, example: Example) -> None:
    diagnosis = classify(Evidence.from_dict({"space_id": "example/space", **example.evidence}))
    if example.runner_up_to:
        assert diagnosis.branch == example.runner_up_to, (signature.id, index, diagnosis.to_dict())
        alternative = next(a for a in diagnosis.alternatives if a.branch == signature.branch)
        assert signature.id in {e.signature for e in alternative.evidence}
        return
    assert diagnosis.branch == signature.branch, (signature.id, index, diagnosis.to_dict())
    assert signature.id in {e.signature for e in diagnosis.evidence}
    for key, value in (example.culprit or {}).items():
        assert diagnosis.culprit.get(key) == value, (key, diagnosis.culprit)


# -- issue 15's blind spots: each covered by real examples from more than one source ------------------


def _source(url: str) -> str:
    """Where a case was published: host plus, on GitHub, the owner/repo (two issues of one repo are one source)."""
    parts = url.split("/")
    return "/".join(parts[2:5]) if parts[2] == "github.com" else parts[2] + "/" + "/".join(parts[3:5])


def test_every_blind_spot_has_three_real_examples_from_two_sources() -> None:
    examples: dict[str, set[str]] = {spot: set() for spot in BLIND_SPOTS}
    for signature in load_catalog().signatures:
        for example in signature.examples:
            if example.blind_spot:
                examples[example.blind_spot].add(example.source_url)
    coverage = {spot: (len(urls), len({_source(u) for u in urls})) for spot, urls in examples.items()}
    print("\nblind-spot coverage (real cases, sources): "
          + ", ".join(f"{spot} {n}/{m}" for spot, (n, m) in coverage.items()))
    thin = {spot: figures for spot, figures in coverage.items() if figures[0] < 3 or figures[1] < 2}
    assert not thin, thin
