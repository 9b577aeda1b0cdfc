"""The exploration engine (layer 4): strategies, the exploration tree, the explorer."""
