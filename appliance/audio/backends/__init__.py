"""Where the audio goes: an ALSA device (pyalsaaudio). Tests use ALSA's own
userspace doubles (the `file`, `null` and `jack` plugins) through this same code."""
