"""Byte-level encoding helpers shared by every codec (layer 0).

`Reader` walks a buffer and raises `ParseError` on truncation; `Writer` builds one.
Design note: readers never copy more than the field they return; all multi-byte
integers are big-endian ("network order", tor-spec section 0.2). Nothing here knows
about cells or documents.
"""

from zwiebel.encoding.bytes import ParseError, Reader, Writer
from zwiebel.encoding.text import b16, b64_nopad, decode_list, unb16, unb64

__all__ = ["ParseError", "Reader", "Writer", "b16", "b64_nopad", "decode_list", "unb16",
           "unb64"]
