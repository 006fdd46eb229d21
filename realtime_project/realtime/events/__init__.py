"""What services send to streams: on commit, in order, coalesced; and what
a resuming client is replayed."""
