"""Text encodings (zwiebel.encoding.text)."""

from __future__ import annotations

from zwiebel.encoding import decode_list, unb16, unb64


def test_decode_list_skips_empty_and_malformed_keys() -> None:
    assert decode_list("00ff+zz++AB", "+", unb16) == [b"\x00\xff", b"\xab"]
    assert decode_list("AAEC-!!-", "-", unb64) == [b"\x00\x01\x02"]
    assert decode_list("", "+", unb16) == []
