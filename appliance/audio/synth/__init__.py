"""The chart's parts made sound: FluidSynth renders them ahead of the audio thread, following
what the musician changes live (the `PartsPlan`)."""
