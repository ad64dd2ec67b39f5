"""Backline: a backing-track appliance for the stage, the rehearsal room and the studio."""

import os

# Each block is mixed by one small matrix product; BLAS worker threads would only
# compete with the audio and disk threads for the Pi's cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
