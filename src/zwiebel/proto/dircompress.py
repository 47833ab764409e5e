"""Compression of directory responses (dir-spec 6.1; tor's lib/compress and dircache.c).

tor names its methods in HTTP headers as ``compression_method_names`` in compress.c does:
``identity``, ``deflate`` (zlib framing, RFC 1950), ``gzip`` (``x-gzip`` accepted, never
sent), ``x-zstd`` and ``x-tor-lzma``. A request URL ending in ".z" asks for deflate.

A server answers with the best method both sides support; tor's preference order
(``srv_meth_pref_precompressed`` / ``..._streaming_compression``) is lzma, zstd, deflate,
gzip, identity. Zwiebel does not offer ``x-tor-lzma`` (tor caps the decoder's memory in
a way Python's lzma module cannot promise to respect), so both of tor's lists reduce to
zstd, deflate, gzip, identity here. zstd needs the optional ``zstandard`` package; without
it zstd is simply not among the supported methods.
"""

from __future__ import annotations

import enum
import gzip
import importlib
import io
import zlib
from types import ModuleType

from zwiebel.encoding import ParseError


def _load_zstd() -> ModuleType | None:
    """The optional ``zstandard`` module, or None when it is not installed."""
    try:
        return importlib.import_module("zstandard")
    except ImportError:  # pragma: no cover - depends on the environment
        return None


zstd = _load_zstd()


class Compression(enum.Enum):
    """A compression method, valued by its canonical HTTP name in tor."""

    IDENTITY = "identity"
    DEFLATE = "deflate"
    GZIP = "gzip"
    ZSTD = "x-zstd"
    LZMA = "x-tor-lzma"


#: Names tor recognises in Accept-Encoding (compression_method_get_by_name is
#: case-sensitive: it uses strcmp).
_BY_NAME: dict[str, Compression] = {
    **{c.value: c for c in Compression},
    "x-gzip": Compression.GZIP,
}

#: Best first, as tor's server preference lists without lzma.
SERVER_PREFERENCE: tuple[Compression, ...] = (
    Compression.ZSTD, Compression.DEFLATE, Compression.GZIP, Compression.IDENTITY,
)


def supported_methods() -> frozenset[Compression]:
    """The methods this process can produce (tor_compress_get_supported_method_bitmask)."""
    methods = {Compression.IDENTITY, Compression.DEFLATE, Compression.GZIP}
    if zstd is not None:
        methods.add(Compression.ZSTD)
    return frozenset(methods)


def method_by_name(name: str) -> Compression | None:
    """compression_method_get_by_name: None for a name tor does not know."""
    return _BY_NAME.get(name)


def parse_accept_encoding(header: str) -> frozenset[Compression]:
    """parse_accept_encoding_header: the listed methods, always with identity.

    Items are split on commas and stripped; unknown names (and q-values, which tor
    does not parse) are ignored.
    """
    found = {Compression.IDENTITY}
    for item in header.split(","):
        method = method_by_name(item.strip())
        if method is not None:
            found.add(method)
    return frozenset(found)


def choose_compression(accepted: frozenset[Compression]) -> Compression:
    """find_best_compression_method over what both sides support."""
    usable = accepted & supported_methods()
    for method in SERVER_PREFERENCE:
        if method in usable:
            return method
    return Compression.IDENTITY


def compress(data: bytes, method: Compression) -> bytes:
    """`data` encoded with `method` (ValueError for a method we cannot produce)."""
    if method is Compression.IDENTITY:
        return data
    if method is Compression.DEFLATE:
        return zlib.compress(data)
    if method is Compression.GZIP:
        return gzip.compress(data, mtime=0)
    if method is Compression.ZSTD and zstd is not None:
        return bytes(zstd.ZstdCompressor(level=3).compress(data))
    raise ValueError(f"cannot compress with {method.value}")


def decompress(data: bytes, method: Compression, limit: int) -> bytes:
    """Undo `method`; ParseError on bad input or output longer than `limit` bytes."""
    if method is Compression.IDENTITY:
        out = data
    elif method in (Compression.DEFLATE, Compression.GZIP):
        out = _inflate(data, 15 if method is Compression.DEFLATE else 31, limit)
    elif method is Compression.ZSTD and zstd is not None:
        out = _unzstd(data, limit)
    else:
        raise ParseError(f"cannot decompress {method.value}")
    if len(out) > limit:
        raise ParseError("decompressed directory object too large")
    return out


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    try:
        obj = zlib.decompressobj(wbits)
        out = obj.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ParseError(f"bad compressed body: {exc}") from exc
    if not obj.eof and not obj.unconsumed_tail:
        raise ParseError("truncated compressed body")
    return out


def _unzstd(data: bytes, limit: int) -> bytes:
    assert zstd is not None
    out = bytearray()
    try:
        with zstd.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
            while len(out) <= limit:
                chunk = reader.read(min(1 << 20, limit + 1 - len(out)))
                if not chunk:
                    break
                out += chunk
    except zstd.ZstdError as exc:
        raise ParseError(f"bad zstd body: {exc}") from exc
    return bytes(out)
