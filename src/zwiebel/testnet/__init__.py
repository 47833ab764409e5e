"""zwiebel.testnet: private Tor networks on 127.0.0.1 for tests and ``zwiebel testnet``.

What it does: ``realtor.RealTorNetwork`` starts directory authorities, middle
relays, exits and optionally a client, all real C tor, waits (bounded polls, no
fixed sleeps) until the consensus lists every relay, and exposes what a test
needs: ports, fingerprints, ed25519 identities, DirAuthority lines, the authority
certificate, control connections, stopping/killing/restarting single relays, and
room (ports, torrc lines, an Exit vote) for a relay of our own.

Design notes: this is a tool layer, not the protocol core, so it uses
subprocess, socket and the clock directly. Modules: ``layout`` (ports and node
names), ``keys`` (tor-gencert, tor --list-fingerprint), ``torrc`` (option
choices and why), ``procs`` (processes and PID records), ``torcontrol`` (a small
blocking control-port client), ``dirpoll`` (consensus status lines over the
DirPort), ``ready`` (bounded waiting), ``nodes``/``view`` (what tests read),
``realtor`` (the lifecycle).

Deliberately not here: a network of Zwiebel processes (that comes with the
relay and authority features), bridges, onion services, IPv6, and any
directory-document parsing beyond nickname/fingerprint/flags (zwiebel.netdoc).
"""
