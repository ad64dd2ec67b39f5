"""The box on a desk: `backline run --sim` plays through the sound card (or, with none,
a JACK dummy server that paces a WAV file), draws the display in the terminal, and turns
keys into footswitch and encoder edges on gpiozero's mock pins. Tests use the same parts."""
