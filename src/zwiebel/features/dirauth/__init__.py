"""The directory authority role (dir-spec 3): the daemon's glue around zwiebel.dirauth.

`service.AuthorityService` owns the authority keys, the descriptor store, the
reachability tests (`reachability`), the voting loop (`voting`, one `round.VotingRound`
per valid-after time), the exchange of votes and signatures with the other
authorities (`exchange`) and the documents served over the DirPort and BEGIN_DIR
(`handlers`, `serve`, `uploads`). Options come from the torrc through `settings`.
"""
