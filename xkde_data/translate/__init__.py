"""Translation engine: structured, concurrent, cached and resumable, over any OpenAI-compatible API.

Public API: :class:`TranslatorConfig`, :func:`translate_stage`, :func:`back_translate_stage`,
:func:`estimate`, and the Batch API helpers :func:`write_batch_requests`,
:func:`ingest_batch_results`, :func:`submit_batch`.
"""

from .batch import ingest_batch_results, submit_batch, write_batch_requests
from .config import TranslatorConfig, default_cache_path
from .engine import back_translate_stage, estimate, translate_stage

__all__ = ["TranslatorConfig", "default_cache_path", "translate_stage", "back_translate_stage", "estimate",
           "write_batch_requests", "ingest_batch_results", "submit_batch"]
