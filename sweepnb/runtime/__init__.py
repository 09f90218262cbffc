"""The runtime layer: runs, agents, program runs, parallel agents, the early-termination monitor."""
