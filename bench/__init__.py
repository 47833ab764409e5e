"""Zwiebel against real tor on loopback, in one run (issue 6).

``python -m bench`` (or ``bench/run``) builds three private networks on 127.0.0.1 of
the same shape, 1 directory authority, 3 middle relays, 1 exit and 1 client, each
started by ``zwiebel.testnet.launcher.Launcher`` (bench.networks): all real tor, all
Zwiebel, and mixed (tor authority, middle and client; Zwiebel middles and exit). On
each it measures (bench.runner):

* single-circuit bulk throughput, median of ``--bulk-reps`` downloads (bench.measure);
* aggregate throughput of ``--parallel`` simultaneous downloads, each on its own
  circuit by SOCKS username isolation;
* time to first byte of a 1 KiB fetch on a fresh circuit (new SOCKS username);
* circuit build time, ``CIRC LAUNCHED`` to ``CIRC BUILT`` on the client's control
  port for ``EXTENDCIRCUIT 0`` through a fixed path (bench.circuits);
* CPU seconds per MB per relay hop and per MB at the client, from /proc
  (bench.procstat), and every node's resident memory idle and after the load;
* connection capacity (tor and zwiebel networks): ``--conns`` OR connections to one
  middle relay, each with a CREATE_FAST circuit, from an asyncio load generator
  built on zwiebel's own channel code (bench.loadgen); successes, failures, and
  the relay's memory before, while held and after closing, i.e. per circuit.

Results go to ``bench/results/<timestamp>.json``, a terminal table with the
zwiebel/tor and mixed/tor ratio per figure, and a PNG chart of the throughput and
latency samples when matplotlib is importable (bench.report).

Design notes: real tor runs with ``ConfluxEnabled 0`` so "one circuit" means one
circuit for both. A fresh SOCKS username gives tor a pre-built circuit when one is
idle (tor predicts circuits), so the TTFB figure includes whatever each client does
to have a circuit ready; the circuit build figure times builds alone. Each client
chooses its own paths for fetches; the CPU figure divides the relays' summed CPU
by 3 hops x MB so it does not depend on the path. MB = 10^6 bytes; files are MiB.
Networks are measured one at a time; ``--start sequential`` (default) also runs
only one at a time, ``--start together`` overlaps the start-ups.

Deliberately not here: profiling (py-spy/pyinstrument are run by hand), timing
assertions in tests (tests/interop/test_bench_smoke.py only checks that a tiny run
measures every figure), the capacity test on the mixed network (it would load a
relay of one implementation again), onion services.
"""
