"""The asyncio runtime (layer 4): the only package that imports asyncio, ssl and socket.

It carries bytes between the network and the sans-I/O protocol core: TLS channels to
relays (`channel`), plain TCP for directory fetches (`dirfetch`) and the DirPort
server (`dirport`, whose `DirSession` also answers BEGIN_DIR streams), listeners (`listen`),
the clock and randomness the core is given (`clock`), and the file-descriptor limit
with the warning when accept() runs out of descriptors (`limits`). Nothing here decides
protocol behaviour; it feeds bytes into state machines and writes out what they return.
"""
