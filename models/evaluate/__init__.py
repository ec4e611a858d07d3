"""Evaluation of the encoders on a held-out synthetic split (`python -m models.evaluate`)."""
