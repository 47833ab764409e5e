"""zwiebel.control: the control protocol (control-spec) without I/O.

What it does
    :mod:`.grammar` splits the controller's byte stream into commands: one-line
    commands and ``+`` multi-line commands with dot-unescaped data, CRLF or bare LF,
    a 1 MiB limit (tor's MAX_COMMAND_LINE_LENGTH). :mod:`.args` reads arguments as
    tor's ``control_cmd_parse_args``/``kvline_parse`` do: positional words, ``K=V``,
    ``K="C string"``, flags, key-less values and QuotedStrings. :mod:`.reply` frames
    replies (``250-``, ``250 ``, ``250+`` data blocks with dot-escaping) and quotes
    values like tor (``esc_for_log``, ``config_value_needs_escape``). :mod:`.auth`
    computes PROTOCOLINFO and the SAFECOOKIE HMACs (checked against bytes from real
    tor 0.4.9.11). :mod:`.events` formats CIRC, STREAM, ORCONN, BW, log, STATUS_*,
    CONF_CHANGED and SIGNAL events; :mod:`.status` the ``ns/*``, circuit-status,
    stream-status, orconn-status and entry-guards answers; :mod:`.conninfo` the
    ``conn/*`` lines of proposal 172 (connection information, a Zwiebel extension)
    with its scrubbing of client and exit addresses.

Design notes
    Everything takes plain values and returns text or bytes; the only error type is
    :class:`zwiebel.encoding.ParseError` (:class:`.grammar.LineTooLong`,
    :class:`.args.ArgumentError`). The asyncio side, authentication state, the command
    table and the GETINFO registry live in :mod:`zwiebel.features.control`; the events
    come from :mod:`zwiebel.managers.events`.

Implemented (client role; tested with stem 1.8.2, txtorcon and Debian's nyx 2.1.0
against a Zwiebel client in a network of real tor 0.4.9.11: tests/interop/test_control.py)
    * ControlPort on TCP (loopback) and ``unix:PATH`` (0600); NULL, HASHEDPASSWORD
      (tor's S2K), COOKIE (32-byte cookie file, 0600) and SAFECOOKIE/AUTHCHALLENGE;
      PROTOCOLINFO; tor's pre-authentication rules (514 and close), 515 and close on
      a bad secret, 500 and close on a command over 1 MiB.
    * GETINFO: version (``0.4.9.11 (zwiebel-0.1.0)``), config-file, config-text,
      config-defaults-file, config/names, config/defaults, info/names, events/names,
      signal/names, features/names, process/pid, process/uid, process/user,
      process/descriptor-limit, uptime, traffic/read, traffic/written, bw-event-cache,
      status/bootstrap-phase, status/circuit-established, status/enough-dir-info,
      status/version/current, circuit-status, stream-status, orconn-status,
      entry-guards, ns/all, ns/id/*, ns/name/*, md/id/*, md/name/*, desc/id/*,
      desc/name/*, net/listeners/socks, net/listeners/control, dormant,
      accounting/enabled, accounting/hibernating, accounting/bytes,
      accounting/bytes-left; fingerprint, address and exit-policy/full fail with 551
      on a client, as in tor, and answer on a relay (with exit-policy/ipv4,
      exit-policy/ipv6; exit-policy/default and exit-policy/reject-private/default on
      every role).
    * Zwiebel extensions (README, "Zwiebel extensions to the control protocol";
      relay side tested with stem in tests/interop/test_control_relay.py): conn/all,
      conn/<circuit id>/<connection id>, info/relay/bw-limit, info/relay/burst-limit,
      info/relay/read-total, info/relay/write-total, info/uptime-process,
      info/uptime-reset, info/descriptor-used, info/descriptor-limit, ns/authority.
    * GETCONF, SETCONF, RESETCONF (atomic: parse and validate everything, then swap),
      SAVECONF (keeps the hand-written torrc as ``torrc.orig.N``; refuses when
      ``%include`` was used unless FORCE), LOADCONF.
    * SIGNAL RELOAD/HUP, SHUTDOWN/INT, HALT/TERM, NEWNYM, CLEARDNSCACHE, HEARTBEAT,
      DUMP/USR1, DEBUG/USR2, ACTIVE, DORMANT; SETEVENTS; USEFEATURE; TAKEOWNERSHIP
      and DROPOWNERSHIP; CLOSECIRCUIT; CLOSESTREAM; QUIT.
    * Events: BW (every second, from the same counters as traffic/*), CIRC
      (LAUNCHED, EXTENDED, BUILT, FAILED, CLOSED), STREAM (NEW, SENTCONNECT,
      DETACHED, SUCCEEDED, FAILED, CLOSED), ORCONN (LAUNCHED, CONNECTED, FAILED,
      CLOSED), ERR/WARN/NOTICE/INFO/DEBUG, STATUS_CLIENT (BOOTSTRAP,
      CIRCUIT_ESTABLISHED), CONF_CHANGED, SIGNAL. Events are queued and sent after
      the reply being written, as tor does.

Not implemented yet
    * Commands answered ``551 ... is not implemented by Zwiebel yet``: MAPADDRESS,
      EXTENDCIRCUIT, SETCIRCUITPURPOSE, ATTACHSTREAM, REDIRECTSTREAM, RESOLVE,
      POSTDESCRIPTOR, DROPGUARDS, DROPTIMEOUTS, HSFETCH, HSPOST, ADD_ONION, DEL_ONION,
      ONION_CLIENT_AUTH_*.
    * Events accepted by SETEVENTS but never sent: CIRC_MINOR, NEWDESC, ADDRMAP,
      DESCCHANGED, NS, STATUS_GENERAL, STATUS_SERVER, GUARD, STREAM_BW, CLIENTS_SEEN,
      NEWCONSENSUS, BUILDTIMEOUT_SET, CONN_BW, CELL_STATS, CIRC_BW, TRANSPORT_LAUNCHED,
      HS_DESC, HS_DESC_CONTENT, NETWORK_LIVENESS.
    * conn/* does not list the client's own directory streams or onion service
      connections (no ``H`` lines yet), and CIRC_ID of a client channel is ``0``
      (client circuits are not mapped to channels); ip-to-country/* (no GeoIP);
      accounting/interval-*, and accounting/* answer "disabled" even on a relay.
    * The ControlSocket, ControlPortWriteToFile and CookieAuthFileGroupReadable
      options (use ``ControlPort unix:PATH``); __OwningControllerProcess.
    * Applying changed options to running managers: SETCONF changes what GETCONF,
      config-text, SAVECONF and the control port's own authentication see at once;
      the circuit and directory managers read their options at start-up. Options
      bound at start-up (ports, DataDirectory, PidFile, RunAsDaemon,
      UseMicrodescriptors) are refused with 553.
    * SETCONF ``Key`` without a value resets to the default (tor clears to 0/NULL).
    * NEWNYM is not rate-limited (tor: at most once every 10 s).
"""
