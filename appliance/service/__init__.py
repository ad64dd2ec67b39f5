"""The daemon: systemd integration, logging, persisted state."""
