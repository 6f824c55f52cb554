"""Build small ``xeit`` / ``tlpo`` dataset folders in the Hub layout, from real Bi-ZsRE cases.

Same format the dataset builder publishes: ``DIR/{xeit,tlpo}/data/{config}/{split}-00000-of-00001.parquet``
plus a README.md dataset card whose ``configs`` YAML makes ``datasets.load_dataset(DIR/xeit, name=...)`` work.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from xkde_data.importers import load_cases
from xkde_data.template import EditTemplate, edit_statement


def xeit_rows(cases, source: str, target: str, kinds=("edit", "rephrase", "locality")) -> list[dict]:
    template = EditTemplate.load()
    rows = []
    for case in cases:
        src, tgt = case.langs[source], case.langs[target]
        update = edit_statement(src.prompt, src.target_new)
        queries = []
        if "edit" in kinds:
            queries.append(("edit", tgt.prompt, tgt.target_new))
        if "rephrase" in kinds:
            queries += [("rephrase", q, tgt.target_new) for q in tgt.rephrase[:1]]
        if "locality" in kinds:
            queries += [("locality", qa.prompt, qa.answer) for qa in tgt.locality[:1]]
        for kind, query, answer in queries:
            rows.append({
                "messages": [{"role": "user", "content": template.render(target, update, query)},
                             {"role": "assistant", "content": answer}],
                "case_id": case.id, "corpus": case.corpus, "source_lang": source, "target_lang": target,
                "kind": kind, "config": f"{source}-{target}",
            })
    return rows


def tlpo_rows(cases, source: str, target: str) -> list[dict]:
    """Chosen: the new answer in the target language; rejected: the same answer in the source language."""
    template = EditTemplate.load()
    rows = []
    for case in cases:
        src, tgt = case.langs[source], case.langs[target]
        if src.target_new == tgt.target_new:
            continue  # no language signal to learn from
        update = edit_statement(src.prompt, src.target_new)
        rows.append({
            "prompt": [{"role": "user", "content": template.render(target, update, tgt.prompt)}],
            "chosen": [{"role": "assistant", "content": tgt.target_new}],
            "rejected": [{"role": "assistant", "content": src.target_new}],
            "case_id": case.id, "corpus": case.corpus, "source_lang": source, "target_lang": target,
            "kind": "edit", "config": f"{source}-{target}",
        })
    return rows


def write_hub_folder(folder: Path, configs: dict[str, dict[str, list[dict]]]) -> Path:
    """``configs``: {config: {split: rows}} -> parquet files + a dataset card; returns ``folder``."""
    from datasets import Dataset

    card = []
    for config, splits in configs.items():
        files = []
        for split, rows in splits.items():
            relative = f"data/{config}/{split}-00000-of-00001.parquet"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            Dataset.from_list(rows).to_parquet(str(folder / relative))
            files.append({"split": split, "path": relative})
        card.append({"config_name": config, "data_files": files})
    (folder / "README.md").write_text("---\n" + yaml.safe_dump({"configs": card}) + "---\n# test data\n",
                                      encoding="utf-8")
    return folder


def build_datasets(root: Path, bizsre: Path, n_cases: int = 4, start: int = 0,
                   kinds=("edit",)) -> tuple[Path, Path, list]:
    """Small en-zh / zh-en XE-IT and TL-PO folders under ``root``; returns (xeit_dir, tlpo_dir, cases)."""
    cases = [c for c in load_cases(bizsre) if {"en", "zh"} <= set(c.langs)][start:start + n_cases]
    xeit_configs, tlpo_configs = {}, {}
    all_xeit, all_tlpo = [], []
    for s, t in (("en", "zh"), ("zh", "en")):
        x, p = xeit_rows(cases, s, t, kinds), tlpo_rows(cases, s, t)
        xeit_configs[f"{s}-{t}"] = {"train": x}
        tlpo_configs[f"{s}-{t}"] = {"train": p}
        all_xeit += x
        all_tlpo += p
    xeit_configs["all"] = {"train": all_xeit}
    tlpo_configs["all"] = {"train": all_tlpo}
    return (write_hub_folder(root / "xeit", xeit_configs), write_hub_folder(root / "tlpo", tlpo_configs), cases)


def corpus_texts(cases) -> list[str]:
    """Texts to train the tiny tokenizer on (the cases plus the XE-IT template)."""
    template = EditTemplate.load()
    texts = [template.text]
    for case in cases:
        for block in case.langs.values():
            texts += [block.prompt, block.target_new, *block.rephrase]
            texts += [x for qa in block.locality + block.portability for x in (qa.prompt, qa.answer)]
    return texts
