"""Zwiebel against real tor on loopback, in one run (issue 6).

``python -m bench`` starts one private network on 127.0.0.1 with a real tor
directory authority and two relay sets of the same shape, each with its own client:

* ``tor``: real tor guard, middle and exit (relay0, relay1, exit0) and a real tor client;
* ``zwiebel``: three Zwiebel relays (zguard, zmiddle, zexit, the exit voted Exit by
  the authority) and a Zwiebel client.

Every client uses only its own relays, so each relay set carries its own load: the
Zwiebel client through EntryNodes/MiddleNodes/ExitNodes with StrictNodes, the real
tor client through a controller (bench.attach) that attaches each new stream to a
circuit of its own built with EXTENDCIRCUIT (so no conflux). Figures: single-circuit
bulk MB/s (median), TTFB of a 1 KiB fetch with a fresh SOCKS username (median),
circuit build time (median; see bench.circuits for how each client is timed),
aggregate MB/s of parallel downloads, CPU seconds per MB and VmRSS of each process
in the path.
Results go to ``bench/results/<timestamp>.json`` plus a terminal table with the
ratio to tor, and a PNG chart when matplotlib is installed.

Design notes: one authority is shared instead of two networks, so both relay sets
see the same consensus and bootstrap once; the sets are measured one after the
other while the other set idles. MB = 10^6 bytes, files are MiB.

Deliberately not here (yet): a mixed relay set (bench.attach could now pin the
real tor client to the Zwiebel relays; untried), a Zwiebel authority, the
5,000-connection load test, memory per circuit, profiling. Timing assertions never
go into the tests.
"""
