"""Directory documents a client needs: parse, then verify (dir-spec.txt; layer 1).

Modules, one per document type or spec seam:

* `tokenizer`: the meta-format of dir-spec 1.2 (keyword lines, arguments, objects),
  items with line numbers and offsets; `format_item`/`format_object` write it back;
  `signed_span` cuts a signed portion exactly as tor does (dir-spec 1.3).
* `rules`: table-driven item rules per document type (at start / exactly once /
  at most once / any number / at end; argument counts; objects).
* `values`: typed arguments (times, addresses, digests, protocol lists, k=v lists).
* `authcert`: authority key certificates (dir-spec 3.1) and their verification.
* `consensus`, `routerstatus`: consensus documents of both flavors (dir-spec 3.4.1,
  3.9) with the digests their signatures cover; `consensus_verify`: signature
  threshold and "reasonably live" checks.
* `microdesc`: microdescriptors (dir-spec 3.3) with their SHA-256 digests.
* `serverdesc`, `serverdesc_verify`: server descriptors (dir-spec 2.1.1) and their
  RSA and Ed25519 signatures; `edcert`: the Ed25519 certificates they carry.
* `vote`, `vote_router`: v3 votes (dir-spec 3.4.1), what an authority publishes and
  the consensus is computed from, with the digest a consensus's vote-digest names.
* `policy` (separate owner): exit policies and their summaries.

Design notes: every parser raises only `zwiebel.encoding.ParseError` on bad input;
a well-formed document whose signatures or times fail raises
`errors.VerifyError` (architecture habit 8: parse, then check). The current time is
always a parameter. Documents are `str` (callers decode the HTTP body as UTF-8 and
report a decoding failure as ParseError); digests are over the UTF-8 bytes of the
exact text, so `raw` fields keep it. Unknown keywords are ignored, as dir-spec 1.2
requires.

Import from the submodules (`zwiebel.netdoc.consensus` etc.): this package file
re-exports nothing, so importing one module never drags in the others.

Deliberately not here yet: extra-info documents,
bandwidth files, consensus diffs, building and signing documents (the tokenizer's
writer and the rule tables are the base for that), and family-cert verification.
"""
