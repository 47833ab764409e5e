"""The directory authority's protocol core, sans I/O (dir-spec 3).

Authority keys (keys.py), what an authority accepts from relays (accept.py, store.py),
how it judges them (flags.py, microdescs.py) and votes (votebuild.py, schedule.py), and
the consensus computed from all authorities' votes (consensus/). The service that runs
the voting schedule and talks to the network is zwiebel.features.dirauth.
"""
