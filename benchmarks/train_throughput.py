"""XE-IT training throughput: tokens/s and MFU, released settings vs packed / padding-free.

A Qwen2-architecture model is initialised from its config (no weights are downloaded):
``--size 0.5b`` is Qwen2.5-0.5B's shape, ``--size tiny`` the 2-layer test model (proves the
script on a CPU). The data are synthetic XE-IT-shaped rows (pre-tokenised prompt + short
answer, lengths drawn like the real instances), trained with TRL's SFTTrainer:

* ``released``: micro-batch 1, no padding-free, gradient checkpointing (the released recipe)
* ``packed``:   packing (best-fit decreasing, padding-free) with ``--packed-length`` tokens a row,
                bf16, SDPA / FlashAttention

tokens/s counts real (non-pad) tokens after ``--warmup`` steps; MFU = tokens/s x FLOPs/token
/ peak, with FLOPs/token = 6 N (N = parameters without the input embedding) + 12 L d s
(attention, s = mean sequence length).

    python benchmarks/train_throughput.py --size 0.5b --attn flash_attention_2     # on a GPU
    python benchmarks/train_throughput.py --size tiny --steps 6 --warmup 2         # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

SIZES = {
    # Qwen2.5-0.5B's architecture
    "0.5b": dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                 tie_word_embeddings=True),
    "tiny": dict(vocab_size=2048, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                 tie_word_embeddings=True),
}
# Dense bf16 peak FLOP/s by device name (NVIDIA datasheets, SXM parts).
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 70e12, "L4": 121e12}


def synthetic_rows(n: int, vocab: int, seed: int = 0) -> list[dict]:
    """XE-IT-shaped rows: a 120-420 token prompt (template + edit + query) and a 2-24 token answer."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        prompt, answer = rng.randint(120, 420), rng.randint(2, 24)
        ids = [rng.randrange(3, vocab) for _ in range(prompt + answer)]
        rows.append({"input_ids": ids, "completion_mask": [0] * prompt + [1] * answer})
    return rows


def flops_per_token(model, config, mean_len: float) -> float:
    params = sum(p.numel() for p in model.parameters())
    if not config.tie_word_embeddings:
        params -= model.get_input_embeddings().weight.numel()
    # tied: the shared matrix is counted once, as the LM head's matmul
    return 6 * params + 12 * config.num_hidden_layers * config.hidden_size * mean_len


class StepClock:
    """Wall time and token count between the end of warm-up and the last step."""

    def __init__(self, warmup: int):
        from transformers import TrainerCallback

        clock = self
        self.warmup, self.start, self.end = warmup, None, None

        class _Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                import torch

                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                if state.global_step == clock.warmup:
                    clock.start = time.perf_counter()
                clock.end = time.perf_counter()

        self.callback = _Callback()


def run_setting(name: str, args, tokenizer_dir: Path, work: Path) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
    from trl import SFTConfig, SFTTrainer

    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    config = Qwen2Config(**SIZES[args.size], pad_token_id=0, eos_token_id=2)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16 if bf16 else torch.float32)
    model.config._attn_implementation = args.attn if name == "packed" else "sdpa"
    rows = synthetic_rows(args.rows, config.vocab_size)
    mean_len = sum(len(r["input_ids"]) for r in rows) / len(rows)
    packed = name == "packed"
    sft = SFTConfig(
        output_dir=str(work / name), max_steps=args.steps, learning_rate=1e-5, lr_scheduler_type="constant",
        per_device_train_batch_size=1 if not packed else args.packed_batch, gradient_accumulation_steps=1,
        packing=packed, packing_strategy="bfd", max_length=args.packed_length if packed else 1024,
        bf16=bf16, gradient_checkpointing=args.packed_gradient_checkpointing if packed else True,
        logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=not cuda, dataloader_num_workers=0, disable_tqdm=True, seed=0,
        completion_only_loss=True,
    )
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    clock = StepClock(args.warmup)
    trainer = SFTTrainer(model=model, args=sft, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         callbacks=[clock.callback])
    trainer.train()
    logs = [h for h in trainer.state.log_history if "num_tokens" in h]
    tokens = {h["step"]: h["num_tokens"] for h in logs}
    measured = tokens[args.steps] - tokens[args.warmup]
    seconds = clock.end - clock.start
    tps = measured / seconds
    fpt = flops_per_token(model, config, args.packed_length / 2 if packed else mean_len)
    device = torch.cuda.get_device_name() if cuda else "cpu"
    peak = args.peak_tflops * 1e12 if args.peak_tflops else next(
        (v for k, v in PEAK_BF16.items() if k in device), None)
    return {"setting": name, "gradient_checkpointing": sft.gradient_checkpointing, "device": device,
            "size": args.size, "attn": model.config._attn_implementation,
            "bf16": bf16, "micro_batch": sft.per_device_train_batch_size, "packing": packed,
            "steps_timed": args.steps - args.warmup, "tokens": int(measured), "seconds": round(seconds, 3),
            "tokens_per_s": round(tps, 1), "mfu": round(tps * fpt / peak, 4) if peak else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="0.5b")
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per setting (incl. warm-up)")
    parser.add_argument("--warmup", type=int, default=5, help="steps excluded from timing")
    parser.add_argument("--rows", type=int, default=2000, help="synthetic XE-IT rows")
    parser.add_argument("--packed-length", type=int, default=8192, help="tokens per packed row")
    parser.add_argument("--packed-batch", type=int, default=1, help="packed rows per micro-batch")
    parser.add_argument("--attn", default="sdpa", help="attention for the packed setting: sdpa, "
                                                        "flash_attention_2, kernels-community/flash-attn2, ...")
    parser.add_argument("--packed-gradient-checkpointing", action="store_true",
                        help="checkpoint activations in the packed setting too (the released one always does)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="peak bf16 TFLOP/s (default: by device)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if not 0 <= args.warmup < args.steps:
        parser.error("--warmup must be below --steps")

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from xkde_train.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer_dir = build_tiny_model(Path(tmp) / "tok", texts=["placeholder text for the pad token"],
                                         vocab_size=300)
        results = [run_setting(name, args, tokenizer_dir, Path(tmp)) for name in ("released", "packed")]
    base = results[0]["tokens_per_s"]
    print(f"\nXE-IT throughput, {results[0]['device']}, Qwen2 {args.size} from config")
    print(f"{'setting':<10} {'attn':<22} {'micro-batch':>11} {'packing':>8} {'tokens/s':>12} {'MFU':>7} "
          f"{'speed-up':>9}")
    for r in results:
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a"
        print(f"{r['setting']:<10} {r['attn']:<22} {r['micro_batch']:>11} {str(r['packing']):>8} "
              f"{r['tokens_per_s']:>12,.0f} {mfu:>7} {r['tokens_per_s'] / base:>8.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
