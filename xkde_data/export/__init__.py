"""Datasets from kept cases: XE-IT instances, TL-PO pairs, splits, Hub-ready export, push, validation."""

from .card import CardInfo, render_card
from .dataset import export_dataset
from .queries import DEFAULT_DISTRACTORS, KINDS
from .splits import assign_splits, with_splits
from .tlpo import TLPO_SCHEMA, build_tlpo, normalize_answer
from .xeit import XEIT_SCHEMA, build_xeit

__all__ = ["DEFAULT_DISTRACTORS", "KINDS", "TLPO_SCHEMA", "XEIT_SCHEMA", "CardInfo", "assign_splits",
           "build_tlpo", "build_xeit", "export_dataset", "normalize_answer", "render_card", "with_splits"]

from .push import merge_card, push_build, repo_ids  # noqa: E402
__all__ += ["merge_card", "push_build", "repo_ids"]
from .validate import validate_build  # noqa: E402
__all__ += ["validate_build"]
