"""stats.json contract and the input == kept + rejected invariant."""

from __future__ import annotations

import polars as pl
import pytest

from xkde_data.curate import CurationConfig, curate_stage
from xkde_data.curate.accounting import AccountingError, build_stats, check_accounting
from xkde_data.importers import import_corpus
from xkde_data.schema import cases_to_frame
from xkde_data.stats import rejects_frame
from conftest import shared


def test_stats_from_import_and_filter_rejects():
    # Real parallel zsRE: some lines lost their answer (import rejects), the rest is filtered.
    imported = import_corpus(str(shared("zsre_parallel")) + "/zsre_train_{lang}.txt", limit=300)
    frame = cases_to_frame(imported.cases)
    langs = ["zh", "de"]
    import_rejects = rejects_frame(
        {"id": r.id, "corpus": r.corpus, "lang": lang, "stage": "import", "reason": r.reason, "detail": r.detail}
        for r in imported.rejects for lang in langs if lang in r.langs)
    translated = frame.filter(pl.col("lang").is_in(langs))
    result = curate_stage(frame.filter(pl.col("lang") == "en"), translated, source_lang="en",
                          config=CurationConfig(decontaminate=False), progress=False)
    rejected = pl.concat([import_rejects, result.rejected.drop("translation")])
    inputs = {lang: translated.filter(pl.col("lang") == lang).height
              + import_rejects.filter(pl.col("lang") == lang).height for lang in langs}
    kept = {lang: result.kept.filter(pl.col("lang") == lang).height for lang in langs}
    sig = CurationConfig(decontaminate=False).signature()
    stats = build_stats("en", langs, inputs, rejected, kept, sig, {"translation": {"requests": 0}})
    check_accounting(stats)
    assert stats["source_lang"] == "en" and stats["signature"] == sig and stats["translation"] == {"requests": 0}
    for lang in langs:
        entry = stats["languages"][lang]
        assert set(entry) == {"input", "kept", "rejected"}
        assert entry["input"] == entry["kept"] + sum(entry["rejected"].values())
    assert sum(stats["rejected_by_stage"][lang].get("filter", 0) for lang in langs) == result.rejected.height
    assert stats["reasons"]["missing_answer"].startswith("import")  # codes are documented in the file


def test_violation_is_loud():
    rejected = rejects_frame([{"id": "a", "corpus": "c", "lang": "zh", "stage": "filter", "reason": "chatter",
                               "detail": "prompt: wrapper"}])
    stats = build_stats("en", ["zh"], {"zh": 3}, rejected, {"zh": 1}, {}, {})
    with pytest.raises(AccountingError, match="zh: input 3 != kept 1 \\+ rejected 1"):
        check_accounting(stats)
    with pytest.raises(AccountingError, match="outside the build"):
        build_stats("en", ["de"], {"de": 1}, rejected, {"de": 0}, {}, {})
    with pytest.raises(AccountingError, match="overwrite"):
        build_stats("en", ["zh"], {"zh": 1}, rejected, {"zh": 0}, {}, {"languages": {}})
