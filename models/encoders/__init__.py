"""The inference library: load a verified encoder by name and embed photos, x-rays and texts.

    from models.encoders.registry import DEFAULT_ENCODER, load_encoder

Training (`models.train`), evaluation (`models.evaluate`) and the service use this package; it
uses none of them.
"""
