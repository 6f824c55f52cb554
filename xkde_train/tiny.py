"""A tiny random model of a real architecture, built offline, for tests and smoke runs.

Qwen2 with 2 layers plus a byte-level BPE tokenizer trained on the given texts
(the demo corpus by default) and a ChatML chat template whose assistant turn
carries ``{% generation %}`` markers, so TRL can mask everything but answers.
Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

# ChatML, with generation markers around the assistant's content for assistant_only_loss.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def demo_texts() -> list[str]:
    """Every string of the embedded demo corpus plus the XE-IT template text."""
    from xkde_data.importers import load_cases
    from xkde_data.resources import resource_path

    texts = []
    for case in load_cases(resource_path("corpora/demo/demo.jsonl")):
        for block in case.langs.values():
            texts += [block.subject or "", block.prompt, block.target_new, block.target_true or ""]
            texts += block.rephrase
            texts += [x for qa in block.locality + block.portability for x in (qa.prompt, qa.answer)]
    try:
        texts.append(resource_path("prompts/xeit/v1.txt").read_text(encoding="utf-8"))
    except Exception:  # the template is optional for the tokenizer's vocabulary
        pass
    return [t for t in texts if t]


def build_tiny_model(out_dir: str | Path, texts: Iterable[str] | None = None, *, vocab_size: int = 2048,
                     hidden_size: int = 64, num_layers: int = 2, seed: int = 0) -> Path:
    """Write a tiny Qwen2 model + tokenizer to ``out_dir`` and return the path."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = list(texts) if texts is not None else demo_texts()
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus * 2, vocab_size=vocab_size, min_frequency=1, special_tokens=SPECIAL_TOKENS,
                            show_progress=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token=None, additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=1024, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    return out
