"""Training for the scanmatch encoders. Imports the inference library; the library never imports this."""
