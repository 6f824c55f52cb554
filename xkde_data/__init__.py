"""xkde-data: build curated cross-lingual knowledge-editing datasets (X-KDE)."""

__version__ = "0.1.0"
