"""A Xet CAS stand-in: where a Storage Bucket's bytes live (routes in routes_xet.py).

A Xet client (`hf_xet`) never sends a file's bytes to the Hub. It cuts them into chunks, packs the
chunks into *xorbs* (POST `/v1/xorbs/default/<hash>`), and describes each file in a *shard* (POST
`/v1/shards`): the file's hash and its *terms*, each a range of chunks of one xorb. A download asks
`/v2/reconstructions/<file hash>` (or v1) for those terms and for URLs of the xorb byte ranges that
hold them, fetches the ranges and decompresses the chunks itself. So this server only has to store
xorbs as they come, read shards, and find where each chunk starts in a xorb; it never decompresses
a chunk to answer the client. Formats (xet-core, https://github.com/huggingface/xet-core, and
https://huggingface.co/docs/xet/index):

- hash text: 32 bytes read as four little-endian u64 words, each printed as 16 hex digits.
- xorb: chunks back to back, each an 8-byte header (version u8 = 0, compressed length u24 LE,
  compression scheme u8: 0 none, 1 LZ4 frame, 2 byte-grouping-4 + LZ4, uncompressed length u24 LE)
  and its bytes; then an optional footer starting with `XETBLOB` (hashes and boundaries; not read).
- shard: a 48-byte header (32-byte tag, version u64 = 2, footer size u64); the file-info section,
  48-byte records: per file a header (file hash, flags u32, entry count u32, 8 unused bytes), its
  entries (xorb hash, flags u32, unpacked bytes u32, first chunk u32, end chunk u32, exclusive),
  then one verification record per entry if flag bit 31 is set and one metadata record if bit 30
  is, ended by a record whose hash is all 0xFF; the xorb-info section (per xorb a header: hash,
  flags, chunk count u32, bytes u32, bytes on disk u32, then one record per chunk), ended the same
  way; lookup tables and a footer follow (not read).

Deliberately unlike the real CAS (see README.md): hashes are taken as the client states them (no
BLAKE3 in the standard library, so a xorb's or a file's hash is not recomputed), there is no global
deduplication (the chunk query always answers 404), nothing is ever garbage-collected, tokens carry a
scope (read or write) but not the repo they were issued for, and nothing is compressed here: a file
the sandbox brings in from git-LFS (`ingest`) is stored as uncompressed chunks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import struct
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from remedybot.sandbox.state import HubState

SHARD_TAG = bytes([72, 70, 82, 101, 112, 111, 77, 101, 116, 97, 68, 97, 116, 97, 0, 85, 105, 103, 69, 106, 123,
                   129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169])  # b"HFRepoMetaData\0" + magic bytes
SHARD_VERSION = 2
RECORD = 48  # every shard record (headers and entries of both sections) is 48 bytes
BOOKEND = b"\xff" * 32
WITH_VERIFICATION = 1 << 31
WITH_METADATA_EXT = 1 << 30
XORB_FOOTER = b"XETBLOB"
CHUNK_HEADER = 8
SCHEMES = (0, 1, 2)  # none, LZ4, byte-grouping-4 + LZ4
INGEST_CHUNK = 64 * 1024  # chunk size for files brought in from git-LFS (the client's chunks average 64 KiB)
TOKEN_SECONDS = 3600
PREFIX = "/xet-cas"  # where the CAS answers, on the sandbox's own address (routes_xet.py)


class FormatError(ValueError):
    """Bytes that are not a xorb or a shard this module can read."""


def hash_hex(raw: bytes) -> str:
    """Xet's text form of a 32-byte hash (four little-endian u64 words, each as 16 hex digits)."""
    return "".join(raw[i:i + 8][::-1].hex() for i in range(0, 32, 8))


def is_hash(text: str) -> bool:
    """64 lowercase hex digits, the only form the CAS accepts in a URL."""
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class Term:
    """Chunks [start, end) of one xorb, `size` bytes once unpacked."""

    xorb: str
    start: int
    end: int
    size: int


@dataclass(frozen=True)
class Chunk:
    """One chunk of a xorb: where its header starts, its length with the header, scheme, unpacked size."""

    offset: int
    length: int
    scheme: int
    size: int


def parse_shard(data: bytes) -> tuple[dict[str, list[Term]], dict[str, int]]:
    """A shard's files (file hash -> terms) and the chunk count of each xorb it lists."""
    if len(data) < RECORD or data[:32] != SHARD_TAG:
        raise FormatError("not a shard: wrong magic number")
    (version,) = struct.unpack_from("<Q", data, 32)
    if version != SHARD_VERSION:
        raise FormatError(f"shard header version {version}, expected {SHARD_VERSION}")
    files: dict[str, list[Term]] = {}
    pos = RECORD
    while (header := _record(data, pos))[:32] != BOOKEND:
        flags, count = struct.unpack_from("<II", header, 32)
        entries = [_record(data, pos + RECORD * (i + 1)) for i in range(count)]
        files[hash_hex(header[:32])] = [_term(entry) for entry in entries]
        pos += RECORD * (1 + count * (2 if flags & WITH_VERIFICATION else 1)
                         + (1 if flags & WITH_METADATA_EXT else 0))
    pos += RECORD
    xorbs: dict[str, int] = {}
    while (header := _record(data, pos))[:32] != BOOKEND:
        (count,) = struct.unpack_from("<I", header, 36)
        xorbs[hash_hex(header[:32])] = count
        pos += RECORD * (1 + count)
    return files, xorbs


def _record(data: bytes, pos: int) -> bytes:
    if pos + RECORD > len(data):
        raise FormatError("the shard ends inside a record")
    return data[pos:pos + RECORD]


def _term(entry: bytes) -> Term:
    _flags, size, start, end = struct.unpack_from("<IIII", entry, 32)
    if end <= start:
        raise FormatError(f"a file entry with the chunk range [{start}, {end})")
    return Term(hash_hex(entry[:32]), start, end, size)


def xorb_chunks(data: bytes) -> list[Chunk]:
    """Walk a xorb's chunk headers up to its footer (or its end)."""
    chunks: list[Chunk] = []
    pos = 0
    while pos < len(data) and data[pos:pos + len(XORB_FOOTER)] != XORB_FOOTER:
        if pos + CHUNK_HEADER > len(data):
            raise FormatError(f"xorb ends inside the header of chunk {len(chunks)}")
        version, scheme = data[pos], data[pos + 4]
        length = int.from_bytes(data[pos + 1:pos + 4], "little")
        size = int.from_bytes(data[pos + 5:pos + 8], "little")
        if version != 0 or scheme not in SCHEMES:
            raise FormatError(f"chunk {len(chunks)}: header version {version}, compression scheme {scheme}")
        if pos + CHUNK_HEADER + length > len(data):
            raise FormatError(f"chunk {len(chunks)} runs past the end of the xorb")
        chunks.append(Chunk(pos, CHUNK_HEADER + length, scheme, size))
        pos += CHUNK_HEADER + length
    if not chunks:
        raise FormatError("a xorb without chunks")
    return chunks


class CasError(Exception):
    """An answer the CAS gives instead of data: HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Piece:
    """Chunks [start, end) of a xorb and the bytes [first, last] (inclusive) that hold them."""

    xorb: str
    start: int
    end: int
    first: int
    last: int


class XetCAS:
    """The xorbs, shards and file index of one sandbox, under `root` (its state folder's `xet/`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.index_path = root / "files.json"
        self.files: dict[str, list[Term]] = {}
        if self.index_path.exists():
            raw = json.loads(self.index_path.read_text())
            self.files = {h: [Term(*t) for t in terms] for h, terms in raw.items()}
        self.tokens: dict[str, tuple[str, int]] = {}  # token -> (scope, expiry in epoch seconds)
        self.secret = secrets.token_bytes(16)  # signs xorb URLs; a restarted sandbox signs anew
        self.lock = threading.RLock()
        self._chunks: dict[str, list[Chunk]] = {}

    # -- tokens ---------------------------------------------------------------------
    def issue(self, scope: str) -> tuple[str, int]:
        """A new access token for `scope` (read or write) and its expiry. Real time, not the sandbox
        clock: the client compares it with its own clock."""
        token = "xet_" + secrets.token_urlsafe(24)
        expiry = int(time.time()) + TOKEN_SECONDS
        with self.lock:
            self.tokens = {t: v for t, v in self.tokens.items() if v[1] > time.time()}
            self.tokens[token] = (scope, expiry)
        return token, expiry

    def authorize(self, token: str | None, scope: str) -> None:
        granted = self.tokens.get(token or "")
        if granted is None or granted[1] <= time.time():
            raise CasError(401, "Missing, unknown or expired Xet access token")
        if scope == "write" and granted[0] != "write":
            raise CasError(403, "This Xet access token is read-only")

    def sign(self, xorb: str) -> str:
        return hmac.new(self.secret, xorb.encode(), hashlib.sha256).hexdigest()[:32]

    # -- storage --------------------------------------------------------------------
    def xorb_path(self, xorb: str) -> Path:
        return self.root / "xorbs" / xorb[:2] / xorb

    def has_xorb(self, xorb: str) -> bool:
        return self.xorb_path(xorb).exists()

    def chunks(self, xorb: str) -> list[Chunk]:
        with self.lock:
            if xorb not in self._chunks:
                self._chunks[xorb] = xorb_chunks(self.xorb_path(xorb).read_bytes())
            return self._chunks[xorb]

    def put_xorb(self, xorb: str, data: bytes) -> bool:
        """Store a xorb; False when it was already there. FormatError for bytes that are not one."""
        chunks = xorb_chunks(data)
        with self.lock:
            if self.has_xorb(xorb):
                return False
            _write(self.xorb_path(xorb), data)
            self._chunks[xorb] = chunks
        return True

    def put_shard(self, data: bytes) -> int:
        """Register a shard's files: 1, or 0 when the same shard came before. Every term must name a
        stored xorb and chunks it has (CasError 400 otherwise)."""
        files, _xorbs = parse_shard(data)
        for file_hash, terms in files.items():
            for term in terms:
                if not self.has_xorb(term.xorb):
                    raise CasError(400, f"file {file_hash} refers to xorb {term.xorb}, which was never uploaded")
                if term.end > len(self.chunks(term.xorb)):
                    raise CasError(400, f"file {file_hash} refers to chunks [{term.start}, {term.end}) of xorb "
                                        f"{term.xorb}, which has {len(self.chunks(term.xorb))}")
        path = self.root / "shards" / hashlib.sha256(data).hexdigest()
        with self.lock:
            if path.exists():
                return 0
            _write(path, data)
            self.files.update(files)
            self._save()
        return 1

    def _save(self) -> None:
        _write(self.index_path, json.dumps({h: [[t.xorb, t.start, t.end, t.size] for t in terms]
                                            for h, terms in self.files.items()}).encode())

    def size(self, file_hash: str) -> int | None:
        terms = self.files.get(file_hash)
        return None if terms is None else sum(t.size for t in terms)

    def ingest(self, file_hash: str, source: Path) -> None:
        """Bring a file the sandbox holds in git-LFS into the CAS under `file_hash`, as uncompressed
        chunks in one xorb of its own (what the Hub's Xet migration does for an LFS file, minus
        compression), so a bucket file copied from a repo downloads through Xet like any other."""
        if file_hash in self.files:
            return
        data = source.read_bytes()
        packed = bytearray()
        pieces = [data[i:i + INGEST_CHUNK] for i in range(0, len(data), INGEST_CHUNK)]
        for piece in pieces:
            n = len(piece).to_bytes(3, "little")
            packed += bytes([0]) + n + bytes([0]) + n + piece
        xorb = hashlib.sha256(b"sandbox-xorb:" + file_hash.encode()).hexdigest()
        with self.lock:
            if pieces:
                self.put_xorb(xorb, bytes(packed))
            self.files[file_hash] = [Term(xorb, 0, len(pieces), len(data))] if pieces else []
            self._save()

    # -- reading --------------------------------------------------------------------
    def reconstruction(self, file_hash: str, first: int = 0, last: int | None = None) -> tuple[int, list[Term],
                                                                                                list[Piece]]:
        """The terms covering bytes [first, last] of a file, the offset of `first` into the first one,
        and the xorb byte ranges to fetch them from. CasError 404 (unknown file), 416 (range)."""
        terms = self.files.get(file_hash)
        if terms is None:
            raise CasError(404, f"No file with Xet hash {file_hash}")
        total = sum(t.size for t in terms)
        if total and first >= total:
            raise CasError(416, f"Range starts at {first}, the file has {total} bytes")
        last = total - 1 if last is None else min(last, total - 1)
        out: list[Term] = []
        pieces: list[Piece] = []
        offset = 0
        pos = 0
        for term in terms:
            chunks = self.chunks(term.xorb)
            keep = []
            for index in range(term.start, term.end):
                if pos + chunks[index].size > first and pos <= last:
                    if not out and not keep:
                        offset = first - pos
                    keep.append(index)
                pos += chunks[index].size
            if keep:
                start, end = keep[0], keep[-1] + 1
                out.append(Term(term.xorb, start, end, sum(chunks[i].size for i in keep)))
                piece = Piece(term.xorb, start, end, chunks[start].offset,
                              chunks[end - 1].offset + chunks[end - 1].length - 1)
                if piece not in pieces:
                    pieces.append(piece)
        return offset, out, pieces

    def read(self, file_hash: str) -> bytes | None:
        """The file's bytes when every chunk is stored uncompressed (files brought in by `ingest`,
        and what the client chose not to compress), else None: unpacking LZ4 is the client's job."""
        terms = self.files.get(file_hash)
        if terms is None:
            return None
        out = bytearray()
        for term in terms:
            data = self.xorb_path(term.xorb).read_bytes()
            for chunk in self.chunks(term.xorb)[term.start:term.end]:
                if chunk.scheme != 0:
                    return None
                out += data[chunk.offset + CHUNK_HEADER:chunk.offset + chunk.length]
        return bytes(out)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


_REGISTRIES: weakref.WeakKeyDictionary[HubState, XetCAS] = weakref.WeakKeyDictionary()


def registry(state: HubState) -> XetCAS:
    """The CAS of a sandbox, kept under its state folder (`xet/`)."""
    with state.lock:
        if state not in _REGISTRIES:
            _REGISTRIES[state] = XetCAS(state.root / "xet")
        return _REGISTRIES[state]
