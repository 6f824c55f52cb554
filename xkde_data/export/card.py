"""Dataset cards: Hub YAML metadata (configs, language, license, ...) plus a body with stats and provenance."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from ..corpora import manifests
from ..langs import language_name

XKDE_CITATION = """@inproceedings{wu2025editonce,
  title     = {Edit Once, Update Everywhere: A Simple Framework for Cross-Lingual Knowledge Synchronization in LLMs},
  author    = {Wu, Yuchen and Ding, Liang and Shen, Li and Tao, Dacheng},
  booktitle = {Findings of the Association for Computational Linguistics: ACL 2025},
  year      = {2025},
  eprint    = {2502.14645},
  archivePrefix = {arXiv}
}"""

KIND_TITLES = {"xeit": "XE-IT instances", "tlpo": "TL-PO preference pairs"}

KIND_DESCRIPTIONS = {
    "xeit": (
        "Cross-lingual Edition Instruction Tuning (XE-IT, stage 1 of X-KDE) instances. Each row is a "
        "TRL conversational example: the user message gives an edit in the source language (plus 0-2 "
        "distractor edits) and a query in the target language; the assistant answers in the target "
        "language. In-scope queries (`reliability`, `generality`, `portability`) take the edited answer, "
        "`locality` queries keep their original answer."
    ),
    "tlpo": (
        "Target-language Preference Optimization (TL-PO, stage 2 of X-KDE) pairs for ORPO/DPO. `prompt` "
        "is the XE-IT user message; `chosen` is the answer in the target language and `rejected` the same "
        "answer in the source language, the language-mismatch failure this stage trains away. Pairs whose "
        "answers are equal after normalisation (names, numbers) carry no signal and are dropped."
    ),
}

COLUMN_DOCS = {
    "xeit": [("messages", "list of {role, content}: user, assistant")],
    "tlpo": [("prompt", "list of {role, content}: the user message"),
             ("chosen", "list of {role, content}: the assistant answer in the target language"),
             ("rejected", "list of {role, content}: the same answer in the source language")],
}
META_DOCS = [
    ("case_id", "edit case id; a case is in exactly one split"),
    ("corpus", "source corpus of the case"),
    ("source_lang", "language of the edit (ISO 639-1)"),
    ("target_lang", "language of the query and answer"),
    ("kind", "reliability | generality | portability | locality"),
    ("config", "`source_lang-target_lang`"),
]

SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]


@dataclass(frozen=True)
class CardInfo:
    """What a dataset card says beyond the data itself.

    ``corpora`` are corpus manifest names (``xkde_data.corpora.manifests()``); their licenses
    and citations go into the card (unknown names: license ``unknown``, no citation).
    ``signature`` is the build signature (tool version, translator model, prompt hash, date,
    ...), printed as provenance; ``filter_summary`` is a stats.json-like dict printed as the
    filter summary. Nothing here may hold a secret: it is published verbatim.
    """

    pretty_name: str
    corpora: list[str] | tuple[str, ...] = ()
    signature: dict[str, Any] = field(default_factory=dict)
    filter_summary: dict[str, Any] = field(default_factory=dict)
    licenses: list[str] | tuple[str, ...] = ()  # overrides the manifests' licenses
    description: str = ""  # an extra paragraph after the standard description
    citations: list[str] | tuple[str, ...] = ()  # extra BibTeX entries

    def corpus_licenses(self) -> list[str]:
        if self.licenses:
            return sorted(set(self.licenses))
        known = manifests()
        return sorted({known[name].license if name in known else "unknown" for name in self.corpora}) or ["unknown"]

    def corpus_citations(self) -> list[str]:
        known = manifests()
        cites = [known[name].citation.strip() for name in self.corpora if name in known and known[name].citation]
        return list(dict.fromkeys([*cites, *(c.strip() for c in self.citations)]))

    def source_datasets(self) -> list[str]:
        known = manifests()
        out = []
        for name in self.corpora:
            source = known[name].source if name in known else ""
            hub = source.removeprefix("hub:").removeprefix("https://huggingface.co/datasets/")
            out.append(f"extended|{hub if hub != source or source.startswith('hub:') else name}")
        return out


def size_category(rows: int) -> str:
    for limit, name in SIZE_CATEGORIES:
        if rows < limit:
            return name
    return "n>100M"


def render_card(kind: str, card: CardInfo, counts: dict[str, dict[str, int]],
                kinds: dict[str, dict[str, int]], languages: list[str]) -> str:
    """The README.md text of one dataset folder.

    ``counts`` is config -> split -> rows (``all`` included, listed first), ``kinds``
    config -> kind -> rows, ``languages`` the ISO codes in the data.
    """
    configs = []
    for config, per_split in counts.items():
        entry: dict[str, Any] = {"config_name": config, "data_files": [
            {"split": split, "path": f"data/{config}/{split}-*.parquet"} for split in per_split]}
        if config == "all":
            entry["default"] = True
        configs.append(entry)
    licenses = card.corpus_licenses()
    total = sum(counts.get("all", {}).values())
    data = DatasetCardData(
        pretty_name=f"{card.pretty_name}: {KIND_TITLES[kind]}",
        language=languages,
        license=licenses[0] if len(licenses) == 1 else licenses,
        multilinguality="multilingual" if len(languages) > 1 else "monolingual",
        task_categories=["text-generation", "question-answering"],
        size_categories=[size_category(total)],
        source_datasets=card.source_datasets(),
        tags=["knowledge-editing", "cross-lingual", "x-kde", "xkde",
              "sft" if kind == "xeit" else "preference", "trl"],
        configs=configs,
    )
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n{_body(kind, card, counts, kinds, languages)}").content


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |"
              for row in rows]
    return "\n".join(lines)


#: Signature keys never printed, whatever a caller puts there: cards are published verbatim.
SECRET_KEY = re.compile(r"api_?key|token|secret|password|authorization|credential", re.IGNORECASE)


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict) and data:
        out = []
        for key, value in data.items():
            if SECRET_KEY.search(str(key)):
                continue
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(data, (list, tuple)):
        return [(prefix, json.dumps(list(data), ensure_ascii=False))]
    return [(prefix, "" if data is None else data)]


def _body(kind: str, card: CardInfo, counts: dict[str, dict[str, int]],
          kinds: dict[str, dict[str, int]], languages: list[str]) -> str:
    names = ", ".join(f"{language_name(code)} (`{code}`)" for code in languages)
    parts = [f"# {card.pretty_name}: {KIND_TITLES[kind]}", "", KIND_DESCRIPTIONS[kind], ""]
    if card.description:
        parts += [card.description, ""]
    parts += [f"Languages: {names}. Built with xkde from "
              f"{', '.join(f'`{c}`' for c in card.corpora) or 'unnamed corpora'}.", ""]
    parts += ["## Usage", "", "```python", "from datasets import load_dataset", "",
              f'ds = load_dataset("ORG/NAME", name="{next(iter(counts), "all")}", split="train")', "```", ""]
    parts += ["## Columns", "", _table(["column", "content"], [list(c) for c in COLUMN_DOCS[kind] + META_DOCS]), ""]
    splits = sorted({s for per in counts.values() for s in per}, key=lambda s: (s != "train", s))
    parts += ["## Configurations", "",
              "One config per (source, target) language pair plus `all`. Splits are by case id: "
              "a case never appears in two splits.", "",
              _table(["config", *splits, "total"],
                     [[f"`{config}`", *(per.get(s, 0) for s in splits), sum(per.values())]
                      for config, per in counts.items()]), ""]
    kind_names = list(dict.fromkeys(k for per in kinds.values() for k in per))
    if kind_names:
        parts += ["### Rows per query kind", "",
                  _table(["config", *kind_names], [[f"`{c}`", *(per.get(k, 0) for k in kind_names)]
                                                   for c, per in kinds.items()]), ""]
    parts += ["## Filter summary", ""]
    flat = _flatten(card.filter_summary)
    parts += [_table(["counter", "value"], [[f"`{k}`", v] for k, v in flat]) if card.filter_summary
              else "No filter summary was recorded for this build.", ""]
    parts += ["## Provenance", "", "The build signature: rebuilding with the same signature gives "
              "byte-identical files.", ""]
    parts += [_table(["field", "value"], [[f"`{k}`", v] for k, v in _flatten(card.signature)])
              if card.signature else "No build signature was recorded.", ""]
    parts += ["## License", "", f"Inherited from the source corpora: {', '.join(card.corpus_licenses())}.", ""]
    parts += ["## Citation", "", "```bibtex", XKDE_CITATION, *(f"\n{c}" for c in card.corpus_citations()), "```", ""]
    return "\n".join(parts)
