"""Managers (layer 5): channel, circuit, guard and directory managers and path selection.

They hold the clients and relays long-lived state and decide what to do; the runtime
layer below them carries the bytes. Bootstrap progress lives here too, and the
connection statistics registry (:mod:`.conntrack`) that the control port reads.
"""
