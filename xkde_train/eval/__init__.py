"""The Bi-ZsRE / MzsRE cross-lingual editing benchmark (``xkde-train eval``).

Library API: :func:`run_eval` (everything, writes the outputs), or the steps
:func:`load_benchmark`, :func:`parse_pairs`, :func:`build_records`,
:func:`score_records`, :func:`summarize`, :func:`write_outputs`.
"""

from .benchmarks import BENCHMARKS, Benchmark, BenchmarkSpec, load_benchmark, parse_pairs
from .generation import answer_tokens, exact_match, generate_answers, in_language, token_f1
from .metrics import METRICS, score_records, summarize
from .outputs import results_markdown, write_outputs
from .records import PROBES, ChatFormatter, build_records, load_chat_template
from .reference import reference_record_scores
from .runner import EvalOptions, load_model, run_eval
from .scorer import TeacherForced, agreement, score_probes

__all__ = [
    "BENCHMARKS", "Benchmark", "BenchmarkSpec", "ChatFormatter", "EvalOptions", "METRICS", "PROBES", "TeacherForced",
    "agreement", "answer_tokens", "build_records", "exact_match", "generate_answers", "in_language", "load_benchmark",
    "load_chat_template", "load_model", "parse_pairs", "reference_record_scores", "results_markdown", "run_eval",
    "score_probes", "score_records", "summarize", "token_f1", "write_outputs",
]
