"""Speed of `xkde-train eval` scoring: the released one-record-at-a-time protocol vs the batched scorer.

The baseline is :func:`xkde_train.eval.reference_record_scores` (five unbatched,
unpadded forward passes per record, full logits), i.e. the released X-KDE
evaluation loop. Both must give identical per-record metrics; the script fails
otherwise. Teacher-forced metrics only (generation is not part of the protocol).

    python benchmarks/eval_speed.py                       # tiny model, CPU
    python benchmarks/eval_speed.py --size 0.5b --device cuda   # ~0.5B random-init Qwen2 on a GPU
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from xkde_data.importers import load_cases  # noqa: E402
from xkde_data.resources import read_prompt  # noqa: E402
from xkde_train.eval import (  # noqa: E402
    METRICS, ChatFormatter, build_records, load_benchmark, parse_pairs, reference_record_scores, score_records,
)
from xkde_train.tiny import build_tiny_model  # noqa: E402

SIZES = {  # Qwen2 shapes; "0.5b" is Qwen2.5-0.5B's body (the vocabulary is the tiny tokenizer's)
    "tiny": None,
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2),
}


def build_model(out: Path, size: str, benchmark_file: str) -> Path:
    texts = [read_prompt("xeit/v1.txt")]
    for case in load_cases(benchmark_file)[:300]:
        for b in case.langs.values():
            texts += [b.prompt, b.target_new, *b.rephrase]
            texts += [x for qa in b.locality + b.portability for x in (qa.prompt, qa.answer)]
    path = build_tiny_model(out, texts=texts)
    if SIZES[size]:
        from transformers import AutoConfig, Qwen2ForCausalLM

        config = AutoConfig.from_pretrained(path)
        for key, value in SIZES[size].items():
            setattr(config, key, value)
        torch.manual_seed(0)
        Qwen2ForCausalLM(config).save_pretrained(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", default="bizsre")
    parser.add_argument("--records", type=int, default=100, help="cases per pair (4 pairs)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--size", choices=list(SIZES), default="tiny")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    benchmark = load_benchmark(args.benchmark)
    with tempfile.TemporaryDirectory() as tmp:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = build_model(Path(tmp) / "model", args.size, benchmark.files[0])
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(args.device).eval()
        pairs = parse_pairs(None, benchmark)
        records = build_records(benchmark, pairs, ChatFormatter(tok), limit=args.records)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"model: {args.size} Qwen2 ({n_params / 1e6:.1f}M params), device {args.device}, "
              f"torch threads {torch.get_num_threads()}, {records.height} records ({len(pairs)} pairs)")

        # warm-up both paths once (allocator, kernels)
        row = records.row(0, named=True)
        case = benchmark.source_for(row["src"], row["tgt"]).cases[row["index"]]
        reference_record_scores(model, tok, case.langs[row["src"]], case.langs[row["tgt"]], row["tgt"])
        score_records(model, tok, records.head(8), batch_size=8, generate=False)

        start = time.perf_counter()
        reference = []
        for row in records.iter_rows(named=True):
            case = benchmark.source_for(row["src"], row["tgt"]).cases[row["index"]]
            reference.append(reference_record_scores(model, tok, case.langs[row["src"]], case.langs[row["tgt"]],
                                                     row["tgt"]))
        baseline = time.perf_counter() - start
        print("| method | batch | seconds | records/s | speed-up | metrics identical |")
        print("|---|---:|---:|---:|---:|---|")
        print(f"| released protocol (1 record, 5 unbatched passes) | 1 | {baseline:.2f} | "
              f"{records.height / baseline:.1f} | 1.0× | – |")
        for batch_size in args.batch_size:
            start = time.perf_counter()
            scored = score_records(model, tok, records, batch_size=batch_size, generate=False)
            took = time.perf_counter() - start
            same = all({m: r[m] for m in METRICS} == ref for r, ref in zip(scored.iter_rows(named=True), reference))
            print(f"| batched, length-sorted, deduplicated | {batch_size} | {took:.2f} | "
                  f"{records.height / took:.1f} | {baseline / took:.1f}× | {'yes' if same else 'NO'} |")
            if not same:
                sys.exit("batched metrics differ from the released protocol")


if __name__ == "__main__":
    main()
