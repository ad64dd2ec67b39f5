"""The vocabulary every part of Backline shares: commands and their names, the state
snapshot, the segment log, gesture names. It sits at the bottom and imports nothing else
of `appliance`, so every package can use it without a cycle (docs/architecture.md)."""
