"""The chart's parts made sound: FluidSynth renders them ahead of the audio thread, following
what the musician changes live (the `PartsPlan`).

    soundfont = soundfont.choose(config_path_or_None)          # SynthError: say it, go on
    synth = PartsSynth(chart, plan, rate, soundfont=soundfont, seed=seed)
    stream = SongStream(synth.readers)     # drums, bass, keys: read as stems are
    synth.blocking = True                  # an offline render: exact, never the helper's
    plan.play_from(frame)                  # the transport, at a start or a jump taken

`fluid` (libfluidsynth through pyfluidsynth), `soundfont` (which .sf2), `notes` (a part's
notes whole), `levels` (the notes per tenth of intensity, made by a helper thread),
`context` (one FluidSynth continuing a run of frames), `parts` (`PartsSynth`, its readers),
`plan` (what the musician changed, and from which frame).
"""
