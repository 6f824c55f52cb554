"""xkde-train eval: metric parity with a plain reference, batching, generation metrics, outputs, bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import polars as pl
import pytest

from conftest import ROOT, run_cli, shared

torch = pytest.importorskip("torch")

from xkde_data.errors import XkdeError  # noqa: E402
from xkde_data.importers import load_cases  # noqa: E402
from xkde_data.resources import read_prompt  # noqa: E402
from xkde_train.eval import (  # noqa: E402
    METRICS, ChatFormatter, EvalOptions, answer_tokens, build_records, exact_match, load_benchmark, load_model,
    parse_pairs, reference_record_scores, run_eval, score_probes, score_records, token_f1,
)
from xkde_train.eval.records import PROBES  # noqa: E402
from xkde_train.eval.scorer import encode_probe  # noqa: E402
from xkde_train.tiny import build_tiny_model  # noqa: E402


def benchmark_texts(n: int = 300) -> list[str]:
    """Tokenizer training texts: the XE-IT template and the first Bi-ZsRE cases, both languages."""
    texts = [read_prompt("xeit/v1.txt")]
    for case in load_cases(shared("bizsre/bizsre_test.json"))[:n]:
        for b in case.langs.values():
            texts += [b.prompt, b.target_new, *b.rephrase]
            texts += [x for qa in b.locality + b.portability for x in (qa.prompt, qa.answer)]
    return texts


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-eval") / "model", texts=benchmark_texts())


@pytest.fixture(scope="session")
def context_sensitive_model(tiny_model, tmp_path_factory):
    """The tiny model with larger random weights: its predictions depend on the context, so locality varies."""
    from transformers import AutoModelForCausalLM

    out = tmp_path_factory.mktemp("tiny-eval-wide") / "model"
    shutil.copytree(tiny_model, out)
    model = AutoModelForCausalLM.from_pretrained(out)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.06)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def bizsre():
    shared("bizsre/bizsre_test.json")
    return load_benchmark("bizsre")


def _parity(model_dir, benchmark, pairs, limit):
    model, tok = load_model(str(model_dir))
    records = build_records(benchmark, pairs, ChatFormatter(tok), limit=limit)
    scored = score_records(model, tok, records, batch_size=8, generate=False)
    for row in scored.iter_rows(named=True):
        case = benchmark.source_for(row["src"], row["tgt"]).cases[row["index"]]
        ref = reference_record_scores(model, tok, case.langs[row["src"]], case.langs[row["tgt"]], row["tgt"])
        assert {m: row[m] for m in METRICS} == ref, (row["pair"], row["index"])
    return scored


@pytest.mark.slow
def test_batched_metrics_equal_plain_reference_per_record(tiny_model, context_sensitive_model, bizsre):
    pairs = parse_pairs(None, bizsre)
    assert pairs == [("en", "en"), ("en", "zh"), ("zh", "en"), ("zh", "zh")]
    scored = _parity(tiny_model, bizsre, pairs, limit=12)
    assert scored.height == 48
    assert scored["reliability"].max() > 0  # the check is not vacuous: some answer tokens are hit
    wide = _parity(context_sensitive_model, bizsre, pairs, limit=6)
    assert wide["locality"].n_unique() > 3  # locality really depends on the edit in context


@pytest.mark.slow
def test_batch_size_does_not_change_argmax(context_sensitive_model):
    shared("mzsre/mzsre_test_ende.json")
    benchmark = load_benchmark("mzsre")
    model, tok = load_model(str(context_sensitive_model))
    records = build_records(benchmark, [("en", "de"), ("fr", "en")], ChatFormatter(tok, "Be brief."), limit=5)
    probes = [(r[f"{p}_prompt"], r[f"{p}_answer"]) for r in records.to_dicts() for p in PROBES]
    one = score_probes(model, tok, probes, batch_size=1)
    many = score_probes(model, tok, probes, batch_size=7)
    assert one == many
    assert len({len(t.answer_ids) for t in one}) > 1  # batches really mixed lengths (padding exercised)


def test_answer_tokens_come_from_offsets_over_the_full_text(tiny_model, bizsre):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    zh = bizsre.sources[0].cases[0].langs["zh"]
    prompt = ChatFormatter(tok)(zh.prompt) + "答："  # the answer glued to CJK text, no space
    ids, positions = encode_probe(tok, prompt, zh.target_new)
    assert tok.decode([ids[p] for p in positions]) == zh.target_new
    assert positions[-1] == len(ids) - 1 and list(positions) == list(range(positions[0], len(ids)))


def test_generation_metrics_normalise_per_language():
    assert answer_tokens("2006年", "zh") == ["2006", "年"]
    assert answer_tokens("田径运动。", "zh") == ["田", "径", "运", "动"]
    assert exact_match("The String.", "the  string", "en") == 1.0
    assert exact_match("Die Saite!", "saite", "de") == 1.0
    assert exact_match("Die Saite", "saite", "en") == 0.0
    assert token_f1("田径", "田径运动", "zh") == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert token_f1("athletics sport", "Athletics", "en") == pytest.approx(2 / 3)
    assert token_f1("", "x", "en") == 0.0


def test_language_consistency_uses_xkde_data_language_id():
    pytest.importorskip("xkde_data.curate.langid", reason="xkde_data.curate.langid not merged yet")
    from xkde_train.eval.generation import in_language

    assert in_language("这是一个关于体育运动的问题的答案。", "zh") is True
    assert in_language("This is the answer to a question about sports.", "zh", "en") is False
    assert in_language("", "en") is False


@pytest.mark.slow
def test_cli_writes_results_records_table_and_chart(tiny_model, tmp_path, bizsre):
    out = tmp_path / "out"
    proc = run_cli("xkde_train", "eval", "--model", str(tiny_model), "--benchmark", "bizsre",
                   "--pairs", "en-zh,zh-en", "--limit", "4", "--batch-size", "5", "--max-new-tokens", "4",
                   "--system-prompt", "You are helpful.", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert list(results["pairs"]) == ["en-zh", "zh-en"]
    assert results["template"]["hash"] and results["benchmark"]["pretty_name"] == "Bi-ZsRE"
    records = pl.read_ndjson(out / "records.jsonl")
    assert records.height == 8 and records["record"].to_list() == list(range(8))
    for pair, entry in results["pairs"].items():
        part = records.filter(pl.col("pair") == pair)
        assert entry["records"] == 4
        for m in METRICS:
            assert entry[m] == round(100 * part[m].mean(), 2)
        assert entry["average"] == round(100 * sum(part[m].mean() for m in METRICS) / 4, 2)
        assert set(entry["generation"]) == {"exact_match", "token_f1", "language_consistency"}
    assert records["gen_reliability_text"].dtype == pl.String
    md = (out / "results.md").read_text()
    assert "| Edit → Query | Records | Reliability | Generality | Locality | Portability | Average |" in md
    assert "| en → zh | 4 |" in md and "| zh → en | 4 |" in md
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Reliability" in proc.stdout


@pytest.mark.slow
def test_mzsre_all_pairs_from_per_language_files(tiny_model, tmp_path):
    shared("mzsre/mzsre_test_enzh.json")
    results = run_eval(EvalOptions(model=str(tiny_model), benchmark="mzsre", all_pairs=True, limit=1,
                                   generate=False), tmp_path / "m", show_progress=False)
    pairs = set(results["pairs"])
    assert {"en-en", "en-de", "de-en", "de-de", "en-zh", "zh-zh", "es-en", "fr-fr"} <= pairs
    assert "de-fr" not in pairs and len(pairs) == 13


@pytest.mark.slow
def test_accelerate_two_processes_match_one(tiny_model, tmp_path):
    pytest.importorskip("accelerate")
    args = ["eval", "--model", str(tiny_model), "--benchmark", "bizsre", "--limit", "3", "--no-generate", "-q"]
    single = run_cli("xkde_train", *args, "--out", str(tmp_path / "one"))
    assert single.returncode == 0, single.stderr
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    # accelerate's --cpu flag runs one process without MPI; --multi_gpu starts torchrun, which joins over gloo.
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                           "-m", "xkde_train", *args, "--out", str(tmp_path / "two")],
                          cwd=ROOT, env={**__import__("os").environ, **env}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    two = json.loads((tmp_path / "two" / "results.json").read_text())
    assert two["settings"]["processes"] == 2 and one["settings"]["processes"] == 1
    assert two["pairs"] == one["pairs"]
    drop = ["record"]
    a = pl.read_ndjson(tmp_path / "one" / "records.jsonl").drop(drop)
    b = pl.read_ndjson(tmp_path / "two" / "records.jsonl").drop(drop)
    assert a.equals(b)
    assert not (tmp_path / "two" / ".shards").exists()


# ---------------------------------------------------------------- bad input

def _bizsre_subset(tmp_path, n=3, edit=None):
    data = json.loads(shared("bizsre/bizsre_test.json").read_text(encoding="utf-8"))[:n]
    if edit:
        edit(data)
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_missing_field_names_record_and_field(tmp_path):
    def drop(data):
        del data[1]["zh"]["rephrase"]
    bench = load_benchmark(str(_bizsre_subset(tmp_path, edit=drop)))
    with pytest.raises(XkdeError, match=r"record 1, field 'zh.rephrase'"):
        build_records(bench, parse_pairs("en-zh", bench), ChatFormatter(_FakeChat()))
    # the English target has its rephrase: that pair is fine
    assert build_records(bench, parse_pairs("zh-en", bench), ChatFormatter(_FakeChat())).height == 3


def test_missing_language_and_unknown_pair(tmp_path, bizsre):
    def drop(data):
        del data[2]["zh"]
    with pytest.raises(XkdeError, match=r"record 2, field 'zh'.*missing language"):
        load_benchmark(str(_bizsre_subset(tmp_path, edit=drop)))
    with pytest.raises(XkdeError, match=r"no language 'de' \(it has en, zh\)"):
        parse_pairs("en-de", bizsre)
    with pytest.raises(XkdeError, match="not of the form"):
        parse_pairs("en_zh", bizsre)
    with pytest.raises(XkdeError, match="not both"):
        parse_pairs("en-zh", bizsre, all_pairs=True)


class _FakeChat:
    """A tokenizer stand-in for record building only (no model is involved there)."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(tiny_model, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    no_template = tmp_path / "no-template"
    shutil.copytree(tiny_model, no_template)
    (no_template / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((no_template / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (no_template / "tokenizer_config.json").write_text(json.dumps(cfg))
    cases = [
        (["--benchmark", str(empty)], "holds no records"),
        (["--benchmark", "bizsre", "--pairs", "en-de"], "no language 'de'"),
        (["--benchmark", str(tmp_path / "nope.json")], "no such file"),
        (["--model", str(no_template), "--limit", "1"], "has no chat template; pass --chat-template FILE"),
    ]
    for extra, message in cases:
        args = ["eval", "--model", str(tiny_model), "--out", str(tmp_path / "out"), *extra]
        proc = run_cli("xkde_train", *args)
        assert proc.returncode == 2, (extra, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr, proc.stderr
        assert not (tmp_path / "out").exists()
    # the user's own template makes the same model usable
    template = tmp_path / "chatml.jinja"
    template.write_text(json.loads((tiny_model / "tokenizer_config.json").read_text()).get("chat_template")
                        or (tiny_model / "chat_template.jinja").read_text())
    proc = run_cli("xkde_train", "eval", "--model", str(no_template), "--chat-template", str(template),
                   "--limit", "1", "--pairs", "zh-zh", "--no-generate", "-q", "--out", str(tmp_path / "ok"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "ok" / "results.json").read_text())["chat_template"] == str(template)


@pytest.mark.slow
def test_batched_greedy_generation_equals_one_at_a_time(context_sensitive_model, bizsre):
    from xkde_train.eval import generate_answers

    model, tok = load_model(str(context_sensitive_model))
    records = build_records(bizsre, [("en", "zh"), ("zh", "en")], ChatFormatter(tok), limit=3)
    prompts = records["reliability_prompt"].to_list() + records["portability_prompt"].to_list()
    alone = [generate_answers(model, tok, [p], max_new_tokens=5)[0] for p in prompts]
    assert generate_answers(model, tok, prompts, batch_size=4, max_new_tokens=5) == alone
    assert all(alone)  # left padding did not just yield empty answers
