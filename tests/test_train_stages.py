"""Real training on CPU: XE-IT then TL-PO on the tiny Qwen2, resume, and a 2-process gloo run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, shared
from train_helpers import build_datasets, corpus_texts
from xkde_data.errors import XkdeError
from xkde_train import scoring
from xkde_train.recipe import load_recipe
from xkde_train.stages import run_pipeline, run_stage

pytestmark = pytest.mark.slow


def small_recipe(path: Path, **stage_changes) -> Path:
    """recipes/tiny-cpu.yaml with some stage keys changed (``xeit__num_train_epochs=2``).

    The recipe's ``max_steps`` (a cap for smoke runs on full builds) is dropped: these tests train
    a handful of rows for a number of epochs.
    """
    raw = yaml.safe_load((ROOT / "recipes" / "tiny-cpu.yaml").read_text(encoding="utf-8"))
    for stage in ("xeit", "tlpo"):
        raw[stage].pop("max_steps", None)
    for dotted, value in stage_changes.items():
        stage, key = dotted.split("__")
        raw[stage][key] = value
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One XE-IT + TL-PO run of recipes/tiny-cpu.yaml on 4 Bi-ZsRE cases (en->zh and zh->en)."""
    from xkde_train.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("train")
    xeit_dir, tlpo_dir, cases = build_datasets(root / "data", shared("bizsre/bizsre_test.json"), n_cases=4)
    model_dir = build_tiny_model(root / "tiny", texts=corpus_texts(cases))
    recipe = load_recipe(small_recipe(root / "r.yaml"), model=str(model_dir), data_dir=str(root / "data"),
                         output_dir=str(root / "out"))
    outcomes = run_pipeline(recipe)
    return {"root": root, "recipe": recipe, "outcomes": outcomes, "model": model_dir, "xeit": xeit_dir,
            "tlpo": tlpo_dir}


def _load(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def _rows(folder, config="all"):
    from datasets import load_dataset

    return list(load_dataset(str(folder), name=config, split="train"))


def test_xeit_learns_the_training_answers(trained):
    xeit = trained["outcomes"][0]
    assert xeit.stage == "xeit" and xeit.train_rows == 8 and xeit.global_step == 40
    metrics = [json.loads(line) for line in
               (trained["recipe"].stage_dir("xeit") / "metrics.jsonl").read_text().splitlines()]
    losses = [m["loss"] for m in metrics if "loss" in m]
    assert len(losses) >= 6 and losses[-1] < 0.25 * losses[0]
    rows = [(r["messages"][:-1], r["messages"][-1:]) for r in _rows(trained["xeit"])]
    before = scoring.answer_token_accuracy(*_load(trained["model"]), rows)
    after = scoring.answer_token_accuracy(*_load(xeit.model_dir), rows)
    assert before < 0.2 and after >= 0.9, (before, after)


def test_tlpo_raises_the_margin(trained):
    tlpo = trained["outcomes"][1]
    assert tlpo.stage == "tlpo" and tlpo.base_model == trained["outcomes"][0].model_dir
    pairs = _rows(trained["tlpo"])
    assert all(p["chosen"][0]["content"] != p["rejected"][0]["content"] for p in pairs)
    before = scoring.preference_margin(*_load(tlpo.base_model), pairs)
    after = scoring.preference_margin(*_load(tlpo.model_dir), pairs)
    assert after > before + 0.02, (before, after)
    metrics = (trained["recipe"].stage_dir("tlpo") / "metrics.jsonl").read_text()
    assert "log_odds_ratio" in metrics  # ORPO's own logs reach the JSONL


def test_saved_models_reload_and_generate(trained):
    import torch

    for outcome in trained["outcomes"]:
        model, tokenizer = _load(outcome.model_dir)
        prompt = _rows(trained["xeit"])[0]["messages"][:1]
        ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=8, do_sample=False)
        assert out.shape[1] > ids["input_ids"].shape[1]
        assert tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()
        summary = json.loads((Path(outcome.model_dir).parent / "summary.json").read_text())
        assert summary["stage"] == outcome.stage and summary["global_step"] == outcome.global_step


def test_resume_continues_an_interrupted_stage(trained, tmp_path):
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt

    recipe_file = small_recipe(tmp_path / "r.yaml", xeit__num_train_epochs=4, xeit__per_device_train_batch_size=4,
                               xeit__save_steps=2, xeit__logging_steps=1)
    recipe = load_recipe(recipe_file, model=str(trained["model"]), data_dir=str(trained["root"] / "data"),
                         output_dir=str(tmp_path / "out"))
    with pytest.raises(KeyboardInterrupt):
        run_stage(recipe, "xeit", callbacks=[Interrupt()])
    stage_dir = recipe.stage_dir("xeit")
    assert (stage_dir / "checkpoint-2").is_dir() and not recipe.final_dir("xeit").exists()
    with pytest.raises(XkdeError, match="pass --resume"):
        run_stage(recipe, "xeit")
    outcome = run_stage(recipe, "xeit", resume=True)
    assert outcome.resumed_from.endswith("checkpoint-2") and outcome.global_step == 8
    steps = [json.loads(line)["step"] for line in (stage_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, *range(3, 9), 8]  # 1-2 logged before the interrupt, 3-8 after it, then the summary
    assert recipe.final_dir("xeit").is_dir()


def test_dpo_algo_trains(trained, tmp_path):
    recipe_file = small_recipe(tmp_path / "r.yaml", tlpo__num_train_epochs=3, tlpo__beta=0.1)
    raw = yaml.safe_load(recipe_file.read_text())
    raw["algo"] = "dpo"
    raw["tlpo"].pop("disable_dropout", None)
    recipe_file.write_text(yaml.safe_dump(raw))
    recipe = load_recipe(recipe_file, model=str(trained["model"]), data_dir=str(trained["root"] / "data"),
                         output_dir=str(tmp_path / "out"))
    xeit_model = trained["outcomes"][0].model_dir
    outcome = run_stage(recipe, "tlpo", model_path=xeit_model)
    pairs = _rows(trained["tlpo"])
    before = scoring.preference_margin(*_load(xeit_model), pairs)
    after = scoring.preference_margin(*_load(outcome.model_dir), pairs)
    assert outcome.global_step == 3 and after > before, (before, after)


def test_two_cpu_processes_through_accelerate(trained, tmp_path, xkde_train_cli):
    recipe_file = small_recipe(tmp_path / "r.yaml", xeit__num_train_epochs=2, xeit__per_device_train_batch_size=2,
                               tlpo__num_train_epochs=1, tlpo__per_device_train_batch_size=2)
    out = tmp_path / "out"
    proc = xkde_train_cli("run", "--config", str(recipe_file), "--model", str(trained["model"]),
                          "--data", str(trained["root"] / "data"), "-o", str(out), "--num-processes", "2",
                          env={"OMP_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    xeit = json.loads((out / "xeit" / "summary.json").read_text())
    # 8 rows / (2 per process x 2 processes) = 2 steps per epoch: both processes trained
    assert xeit["global_step"] == 4
    assert json.loads((out / "tlpo" / "summary.json").read_text())["global_step"] == 2
    model, tokenizer = _load(out / "tlpo" / "final")
    assert model.config.num_hidden_layers == 2 and tokenizer.chat_template


def test_lora_stage_saves_a_merged_model(trained, tmp_path):
    recipe_file = small_recipe(tmp_path / "r.yaml", xeit__num_train_epochs=2)
    raw = yaml.safe_load(recipe_file.read_text())
    raw["lora"] = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
    recipe_file.write_text(yaml.safe_dump(raw))
    recipe = load_recipe(recipe_file, model=str(trained["model"]), data_dir=str(trained["root"] / "data"),
                         output_dir=str(tmp_path / "out"))
    outcome = run_stage(recipe, "xeit")
    final = Path(outcome.model_dir)
    assert (final / "config.json").is_file() and not (final / "adapter_config.json").exists()
    import torch

    merged, _ = _load(final)
    base, _ = _load(trained["model"])
    q_merged = merged.model.layers[0].self_attn.q_proj.weight
    assert not torch.allclose(q_merged, base.model.layers[0].self_attn.q_proj.weight)  # the adapter is merged in
    assert torch.equal(merged.model.layers[0].mlp.up_proj.weight, base.model.layers[0].mlp.up_proj.weight)


def test_trains_on_the_exporters_folders_with_validation(tmp_path):
    """The folders `xkde-data build` writes (via xkde_data.export) train as they are; eval_split is used."""
    import polars as pl

    from conftest import DEMO
    from xkde_data.export import CardInfo, assign_splits, build_tlpo, build_xeit, export_dataset
    from xkde_data.importers import load_cases
    from xkde_data.schema import cases_to_frame
    from xkde_data.template import EditTemplate
    from xkde_train.tiny import build_tiny_model

    if not DEMO.exists():
        pytest.skip("demo corpus not in this checkout")
    cases = load_cases(DEMO)
    kept, template = cases_to_frame(cases), EditTemplate.load()
    splits = assign_splits([c.id for c in cases], validation_fraction=0.2, seed=0)
    card = CardInfo(pretty_name="test", corpora=["demo"], signature={}, filter_summary={})
    for kind, build in (("xeit", build_xeit), ("tlpo", build_tlpo)):
        frame, _ = build(kept, ["en", "zh"], template=template, seed=0, splits=splits)
        if "split" not in frame.columns:
            frame = frame.with_columns(pl.col("case_id").replace_strict(splits).alias("split"))
        export_dataset(frame, tmp_path / "build" / kind, kind=kind, card=card)
    model_dir = build_tiny_model(tmp_path / "tiny")  # tokenizer trained on the demo corpus (the default)

    raw = yaml.safe_load((ROOT / "recipes" / "tiny-cpu.yaml").read_text(encoding="utf-8"))
    for stage in ("xeit", "tlpo"):
        raw["data"][stage] = {"path": str(tmp_path / "build" / stage), "mixture": {"en-zh": 0.05, "zh-en": 0.05},
                              "eval_split": "validation"}
        raw[stage].update(max_steps=2, eval_strategy="steps", eval_steps=2, per_device_eval_batch_size=4)
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    recipe = load_recipe(recipe_file, model=str(model_dir), output_dir=str(tmp_path / "out"))
    xeit, tlpo = run_pipeline(recipe)
    assert xeit.train_rows == 20 and xeit.global_step == 2 and tlpo.global_step == 2
    for stage in ("xeit", "tlpo"):
        logged = [json.loads(line) for line in (recipe.stage_dir(stage) / "metrics.jsonl").read_text().splitlines()]
        assert any("eval_loss" in m for m in logged), stage
