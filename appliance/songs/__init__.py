"""Getting songs onto the box: a DAW's stem export imported as a library song, each
song's loudness measured so that every song plays at the box's target, and (sync) songs
copied from a stick or a share. Sits beside control and ui: it reads stems and renders
(audio) and writes song.toml (timeline)."""
