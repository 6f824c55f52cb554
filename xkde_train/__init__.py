"""xkde-train: XE-IT then TL-PO on TRL, and the cross-lingual editing benchmark."""

__version__ = "0.1.0"
