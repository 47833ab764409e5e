"""Building and signing the documents relays and authorities publish (dir-spec 2.1, 3.3; layer 1).

Modules:

* `serverdesc`: the server descriptor (dir-spec 2.1.1) in tor 0.4.9.11's item order,
  with its Ed25519 and raw-PKCS#1 RSA signatures;
* `extrainfo`: the extra-info document (dir-spec 2.1.2) and the two digests the server
  descriptor names it by;
* `microdesc`: the microdescriptor an authority derives from a server descriptor
  (dir-spec 3.3);
* `family`: canonical family lists (tor's nodefamily.c);
* `vote`: an authority's vote (dir-spec 3.4.1) in tor's item order, signed;
* `authcert`: an authority key certificate (dir-spec 3.1) as tor-gencert writes it.

Design notes: pure functions of typed fields, keys and the time given; no clock, no
randomness (RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic, so the same
inputs give the same bytes). Certificates arrive already encoded: making them belongs
to the layer that owns the keys (zwiebel.features.relay.keys_certs). Every document
built here parses with the package's own parsers, which the tests check.

Deliberately not here: statistics beyond bandwidth history lines, family-cert
(proposal 321 family keys), bridge-distribution-request, overload-general lines
(tor only writes them when overloaded); the consensus is computed in
zwiebel.dirauth.consensus.
"""
