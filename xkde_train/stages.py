"""The two training stages on TRL: XE-IT (``SFTTrainer``) and TL-PO (ORPO, or DPO).

Layout under the recipe's ``output_dir``::

    xeit/checkpoint-N/   TRL checkpoints (``--resume`` continues from the last one)
    xeit/metrics.jsonl   every logged metric, one JSON object per line
    xeit/final/          model + tokenizer at the end of the stage (written atomically)
    xeit/summary.json    what the stage did
    tlpo/...             the same for TL-PO, which starts from xeit/final

Everything is checked (:func:`preflight`) before a model is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xkde_data.errors import XkdeError

from . import data as data_mod
from .recipe import ModelSpec, Recipe, build_trl_config

STAGES = ("xeit", "tlpo")


@dataclass
class StageOutcome:
    stage: str
    model_dir: str
    base_model: str
    train_rows: int
    global_step: int
    train_loss: float | None
    resumed_from: str | None = None
    skipped: bool = False
    last_metrics: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- model and tokenizer

def check_model_path(name_or_path: str, *, file: str | None = None, field_name: str = "model.name_or_path") -> None:
    if Path(name_or_path).exists():
        if not (Path(name_or_path) / "config.json").is_file():
            raise XkdeError(f"not a model folder (no config.json): {name_or_path}", file=file, field=field_name)
        return
    if not data_mod.looks_like_hub_id(name_or_path):
        raise XkdeError(f"model not found (neither a folder nor a Hub id): {name_or_path}", file=file,
                        field=field_name)


def load_tokenizer(spec: ModelSpec, path: str | None = None, *, file: str | None = None):
    from transformers import AutoTokenizer

    source = path or spec.name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=spec.trust_remote_code)
    except (OSError, ValueError) as err:
        raise XkdeError(f"cannot load the tokenizer of {source}: {str(err).splitlines()[0]}", file=file,
                        field="model.name_or_path") from None
    if spec.chat_template:
        tokenizer.chat_template = spec.chat_template
    if tokenizer.pad_token is None:  # Llama-2 has none; the collators need one
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(spec: ModelSpec, path: str | None = None, *, file: str | None = None):
    from transformers import AutoModelForCausalLM

    source = path or spec.name_or_path
    kwargs: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code}
    if spec.dtype:
        kwargs["dtype"] = spec.dtype
    if spec.attn_implementation:
        kwargs["attn_implementation"] = spec.attn_implementation
    try:
        return AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError, ImportError) as err:
        raise XkdeError(f"cannot load the model {source}: {str(err).splitlines()[0]}", file=file,
                        field="model") from None


def check_chat_template(tokenizer, example: dict, *, assistant_only_loss: bool = False, file: str | None = None,
                        source: str = "") -> None:
    """The template must let TRL find the answer: either the rendered prompt is a prefix of the rendered
    conversation (prompt-completion loss), or the template has ``{% generation %}`` markers."""
    if not tokenizer.chat_template:
        raise XkdeError(f"tokenizer of {source} has no chat template; set model.chat_template", file=file,
                        field="model.chat_template")
    if assistant_only_loss:
        messages = example["messages"]
        rendered = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                                 return_assistant_tokens_mask=True)
        if not any(rendered.get("assistant_masks") or []):
            raise XkdeError("chat template cannot mark the answer: assistant_only_loss needs "
                            "{% generation %} markers around the assistant turn", file=file,
                            field="model.chat_template")
        return
    prompt = example["prompt"]
    answer = example["completion"] if "completion" in example else example["chosen"]
    prompt_text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(prompt + answer, tokenize=False)
    if not full_text.startswith(prompt_text) or answer[-1]["content"] not in full_text[len(prompt_text):]:
        raise XkdeError("chat template cannot mark the answer: the rendered prompt (with the generation prompt) "
                        "is not followed by the answer in the rendered conversation", file=file,
                        field="model.chat_template")


# ---------------------------------------------------------------- callbacks

def metrics_callback(path: Path, stage: str):
    """Append every log event to a JSONL file (main process only)."""
    from transformers import TrainerCallback

    class JsonlMetrics(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                record = {"stage": stage, "step": state.global_step, "epoch": state.epoch, **logs}
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, default=float) + "\n")

    return JsonlMetrics()


# ---------------------------------------------------------------- checks

def _stage_source(recipe: Recipe, stage: str):
    source = recipe.xeit_data if stage == "xeit" else recipe.tlpo_data
    if source is None:
        raise XkdeError(f"no {stage} dataset: set data.{stage}.path", file=recipe.file, field=f"data.{stage}")
    return source


def stage_base_model(recipe: Recipe, stage: str, model_path: str | None = None) -> str:
    """XE-IT starts from the recipe's model; TL-PO from the XE-IT result when there is one."""
    if model_path:
        return model_path
    if stage == "tlpo" and recipe.final_dir("xeit").is_dir():
        return str(recipe.final_dir("xeit"))
    return recipe.model.name_or_path


def _has_checkpoint(stage_dir: Path) -> bool:
    return stage_dir.is_dir() and any(p.name.startswith("checkpoint-") for p in stage_dir.iterdir())


def preflight(recipe: Recipe, stages=STAGES, *, model_path: str | None = None, resume: bool = False,
              overwrite: bool = False) -> dict[str, Any]:
    """Everything that can be checked without training: data, columns, model, chat template, output dir.
    Returns ``{stage: (train_dataset, eval_dataset or None)}``."""
    loaded: dict[str, Any] = {}
    for stage in stages:
        source = _stage_source(recipe, stage)
        stage_dir = recipe.stage_dir(stage)
        if _has_checkpoint(stage_dir) and not (resume or overwrite):
            raise XkdeError(f"{stage_dir} has checkpoints of an earlier run: pass --resume to continue it "
                            "or --overwrite to start over", file=recipe.file, field="output_dir")
        assistant_only = stage == "xeit" and bool(recipe.xeit.get("assistant_only_loss"))
        def load(split=None):
            return (data_mod.load_xeit(source, assistant_only_loss=assistant_only, split=split) if stage == "xeit"
                    else data_mod.load_tlpo(source, split=split))

        dataset = load()
        loaded[stage] = (dataset, load(source.eval_split) if source.eval_split else None)
        base = stage_base_model(recipe, stage, model_path)
        # TL-PO's base may only appear once XE-IT has run; its tokenizer is the recipe model's.
        tokenizer_source = base if Path(base).exists() or stage == "xeit" else recipe.model.name_or_path
        check_model_path(tokenizer_source, file=recipe.file)
        tokenizer = load_tokenizer(recipe.model, tokenizer_source, file=recipe.file)
        check_chat_template(tokenizer, dataset[0], assistant_only_loss=assistant_only, file=recipe.file,
                            source=tokenizer_source)
    return loaded


# ---------------------------------------------------------------- stages

def _lora_config(recipe: Recipe):
    if not recipe.lora:
        return None
    from peft import LoraConfig

    values = {"task_type": "CAUSAL_LM", **recipe.lora}
    return LoraConfig(**values)


def _forced_args(stage_dir: Path) -> dict[str, Any]:
    import torch

    forced: dict[str, Any] = {"output_dir": str(stage_dir)}
    if not torch.cuda.is_available():
        forced["use_cpu"] = True  # also makes accelerate's multi-process launch use gloo on CPU
    return forced


def _save_final(trainer, tokenizer, final_dir: Path, *, merge_lora: bool) -> None:
    """All ranks take part in saving (FSDP / ZeRO-3 gather); the main process renames it into place."""
    tmp = final_dir.parent / ".final.tmp"
    if trainer.accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    trainer.accelerator.wait_for_everyone()
    if merge_lora:
        if trainer.accelerator.is_main_process:
            merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
            merged.save_pretrained(tmp)
    else:
        trainer.save_model(str(tmp))
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(tmp)
        if final_dir.exists():
            shutil.rmtree(final_dir)
        os.replace(tmp, final_dir)
    trainer.accelerator.wait_for_everyone()


def _write_summary(stage_dir: Path, outcome: StageOutcome) -> None:
    from xkde_data.atomic import atomic_write

    def _write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(asdict(outcome), indent=2, default=str), encoding="utf-8")

    atomic_write(stage_dir / "summary.json", _write)


def run_stage(recipe: Recipe, stage: str, *, model_path: str | None = None, resume: bool = False,
              overwrite: bool = False, callbacks: list | None = None, datasets=None) -> StageOutcome:
    """Train one stage ("xeit" or "tlpo") as the recipe says; returns what happened.
    ``datasets``: (train, eval) as :func:`preflight` returns them, to skip loading them again."""
    from transformers.trainer_utils import get_last_checkpoint

    if stage not in STAGES:
        raise XkdeError(f"unknown stage {stage!r} (known: {', '.join(STAGES)})")
    if datasets is None:
        datasets = preflight(recipe, [stage], model_path=model_path, resume=resume, overwrite=overwrite)[stage]
    train_dataset, eval_dataset = datasets
    stage_dir = recipe.stage_dir(stage)
    if overwrite and stage_dir.exists() and not resume:
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    base = stage_base_model(recipe, stage, model_path)
    check_model_path(base, file=recipe.file)

    args = build_trl_config(recipe, stage, **_forced_args(stage_dir))
    resume_from = get_last_checkpoint(str(stage_dir)) if resume and stage_dir.is_dir() else None
    tokenizer = load_tokenizer(recipe.model, base, file=recipe.file)
    model = load_model(recipe.model, base, file=recipe.file)
    peft_config = _lora_config(recipe)
    all_callbacks = [metrics_callback(stage_dir / "metrics.jsonl", stage), *(callbacks or [])]

    common = dict(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                  processing_class=tokenizer, callbacks=all_callbacks, peft_config=peft_config)
    if stage == "xeit":
        from trl import SFTTrainer

        trainer = SFTTrainer(**common)
    elif recipe.algo == "dpo":
        from trl import DPOTrainer

        trainer = DPOTrainer(**common)
    else:
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
        from trl.experimental.orpo import ORPOTrainer

        trainer = ORPOTrainer(**common)

    result = trainer.train(resume_from_checkpoint=resume_from)
    _save_final(trainer, tokenizer, recipe.final_dir(stage), merge_lora=peft_config is not None)
    if args.push_to_hub and trainer.accelerator.is_main_process:
        trainer.push_to_hub()  # the token comes from HF_TOKEN / the login cache, never from the recipe
    history = [h for h in trainer.state.log_history if "loss" in h or "train_loss" in h]
    outcome = StageOutcome(stage=stage, model_dir=str(recipe.final_dir(stage)), base_model=base,
                           train_rows=len(train_dataset), global_step=trainer.state.global_step,
                           train_loss=result.training_loss, resumed_from=resume_from,
                           last_metrics=history[-1] if history else {})
    if trainer.accelerator.is_main_process:
        _write_summary(stage_dir, outcome)
    return outcome


def run_xeit(recipe: Recipe, **kwargs) -> StageOutcome:
    return run_stage(recipe, "xeit", **kwargs)


def run_tlpo(recipe: Recipe, **kwargs) -> StageOutcome:
    return run_stage(recipe, "tlpo", **kwargs)


def stage_done(recipe: Recipe, stage: str) -> bool:
    return (recipe.stage_dir(stage) / "summary.json").is_file() and recipe.final_dir(stage).is_dir()


def run_pipeline(recipe: Recipe, *, resume: bool = False, overwrite: bool = False,
                 callbacks: list | None = None) -> list[StageOutcome]:
    """XE-IT, then TL-PO on the XE-IT model. With ``resume``, a finished stage is skipped."""
    loaded = preflight(recipe, STAGES, resume=resume, overwrite=overwrite)
    outcomes = []
    for stage in STAGES:
        if resume and stage_done(recipe, stage):
            summary = json.loads((recipe.stage_dir(stage) / "summary.json").read_text(encoding="utf-8"))
            outcomes.append(StageOutcome(**{**summary, "skipped": True}))
            continue
        outcomes.append(run_stage(recipe, stage, resume=resume, overwrite=overwrite, callbacks=callbacks,
                                  datasets=loaded[stage]))
    return outcomes
