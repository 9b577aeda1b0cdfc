"""The runtime for one execution (layer 2): greenlet lives here only."""
