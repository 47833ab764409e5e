"""zwiebel.testnet: private Tor networks on 127.0.0.1 for tests and ``zwiebel testnet``.

What it does:

* ``launcher`` (``zwiebel testnet up/down``): a network whose nodes are Zwiebel by
  default, any role (or every other node of a role) real tor on request. Each node
  gets the same torrc text whichever implementation runs it; only the command
  differs (``python -m zwiebel -f TORRC`` or ``tor -f TORRC``). The processes run
  detached; ``DIR/network.json`` and ``DIR/pids.json`` record them (``netfile``),
  ``status`` reads them back, ``demo`` downloads a file through a client.
* ``realtor.RealTorNetwork``: real tor only, for the interop tests and bench/:
  authorities, middles, exits and optionally a client, ready when every relay and
  the client hold a complete directory; ports, fingerprints, DirAuthority lines,
  control connections, stopping/killing/restarting single relays, and room (ports,
  torrc lines, an Exit vote) for a relay of our own.

Design notes: this is a tool layer, not the protocol core, so it uses
subprocess, socket and the clock directly, and waits only by bounded polls.
Modules: ``layout`` (ports and node names), ``torrc`` (option choices and why;
lines only real tor accepts kept apart), ``impls`` (which implementation runs a
node, its command, who makes the authority keys), ``keys`` (tor-gencert,
``--list-fingerprint``), ``procs`` (processes and PID records), ``torcontrol`` (a
small blocking control-port client), ``dirpoll`` (consensus status lines over the
DirPort), ``ready`` (bounded waiting), ``progress`` (the terminal progress bar),
``launcher``/``netfile``/``status``/``demo``/``cli`` (the ``zwiebel testnet``
command), ``nodes``/``view``/``realtor`` (RealTorNetwork), ``zwiebelproc`` (one
Zwiebel daemon with its log on a pipe), ``fileserver`` and ``socksfetch`` (the
download).

Deliberately not here: bridges, onion services, IPv6, DNS names for the exits
(use IP literals), and any directory-document parsing beyond nickname,
fingerprint, flags and valid-after (zwiebel.netdoc does that).
"""
