"""Backline: a backing-track appliance for the stage, the rehearsal room and the studio."""

__version__ = "0.1.0"
