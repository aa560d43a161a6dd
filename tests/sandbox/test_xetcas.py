"""The CAS stand-in's readers of xorbs and shards, on bytes the real client produced (tests/data/xet/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remedybot.sandbox.xetcas import CasError, Chunk, FormatError, Term, XetCAS, parse_shard, xorb_chunks

DATA = Path(__file__).resolve().parents[1] / "data" / "xet"
HELLO_FILE = "48a3213a086cad271381aafe47232eb5df291a963cebbfec071972eff45eb422"
HELLO_XORB = "9076ba12d998050b9c95c8bf770f943e6cad55c7490a82b76cf1582a2a05c2c2"
TEXT_FILE = "b18cf26d4a178eff92d08342cae8c3a0fac7ff32a4d82b061ff6409d714c04f2"
TEXT_XORB = "b770ed7d1237cea81e0cdcbba8fefa81966f1926b278441e87042aa6ce9abf90"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_a_shard_names_the_file_hash_the_client_reported_and_its_terms() -> None:
    files, xorbs = parse_shard(fixture("hello.shard"))
    assert files == {HELLO_FILE: [Term(HELLO_XORB, 0, 1, 5)]}
    assert xorbs == {HELLO_XORB: 1}
    files, xorbs = parse_shard(fixture("text.shard"))
    assert files == {TEXT_FILE: [Term(TEXT_XORB, 0, 1, 60000)]}
    assert xorbs == {TEXT_XORB: 1}


def test_xorb_chunk_headers_locate_each_chunk() -> None:
    hello = fixture("hello.xorb")
    assert xorb_chunks(hello) == [Chunk(offset=0, length=13, scheme=0, size=5)]
    assert hello[8:] == b"hello"  # scheme 0: stored as is, right after the 8-byte header
    text = fixture("text.xorb")
    assert xorb_chunks(text) == [Chunk(offset=0, length=len(text), scheme=1, size=60000)]  # LZ4


@pytest.mark.parametrize("damage", [
    lambda b: b[:100],                     # ends inside a record
    lambda b: b"X" + b[1:],                # wrong magic number
    lambda b: b[:32] + b"\x03" + b[33:],   # a header version this reader does not know
])
def test_a_damaged_shard_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FormatError):
        parse_shard(damage(fixture("text.shard")))


@pytest.mark.parametrize("damage", [
    lambda b: b[:-1],                      # the chunk runs past the end
    lambda b: b"\x01" + b[1:],             # chunk header version 1
    lambda b: b[:4] + b"\x07" + b[5:],     # unknown compression scheme
    lambda b: b"",                         # no chunk at all
])
def test_a_damaged_xorb_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FormatError):
        xorb_chunks(damage(fixture("text.xorb")))


def test_reconstruction_points_at_the_stored_byte_ranges(tmp_path: Path) -> None:
    cas = XetCAS(tmp_path)
    with pytest.raises(CasError) as refused:  # the shard before its xorb
        cas.put_shard(fixture("hello.shard"))
    assert refused.value.status == 400
    assert cas.put_xorb(HELLO_XORB, fixture("hello.xorb")) is True
    assert cas.put_xorb(HELLO_XORB, fixture("hello.xorb")) is False
    assert cas.put_shard(fixture("hello.shard")) == 1
    assert cas.put_shard(fixture("hello.shard")) == 0
    assert cas.size(HELLO_FILE) == 5 and cas.read(HELLO_FILE) == b"hello"
    offset, terms, pieces = cas.reconstruction(HELLO_FILE, 2, 3)
    assert (offset, terms) == (2, [Term(HELLO_XORB, 0, 1, 5)])
    assert [(p.first, p.last) for p in pieces] == [(0, 12)]  # the chunk with its header, inclusive
    with pytest.raises(CasError) as past_the_end:
        cas.reconstruction(HELLO_FILE, 5)
    assert past_the_end.value.status == 416
    cas.put_xorb(TEXT_XORB, fixture("text.xorb"))
    cas.put_shard(fixture("text.shard"))
    assert cas.read(TEXT_FILE) is None  # LZ4-compressed: unpacking is the client's job
    assert XetCAS(tmp_path).size(TEXT_FILE) == 60000  # the index outlives a restart


def test_a_file_from_git_lfs_is_stored_as_plain_chunks(tmp_path: Path) -> None:
    cas = XetCAS(tmp_path / "cas")
    source = tmp_path / "weights.bin"
    source.write_bytes(bytes(range(256)) * 1000)  # 256 000 bytes: four chunks of at most 64 KiB
    cas.ingest("ab" * 32, source)
    (term,) = cas.files["ab" * 32]
    assert [c.size for c in cas.chunks(term.xorb)] == [65536, 65536, 65536, 59392]
    assert cas.read("ab" * 32) == source.read_bytes()
    offset, terms, pieces = cas.reconstruction("ab" * 32, 70000, 140000)
    assert offset == 70000 - 65536
    assert [(t.start, t.end, t.size) for t in terms] == [(1, 3, 131072)]
    assert [(p.first, p.last) for p in pieces] == [(65544, 65544 + 2 * 65544 - 1)]
