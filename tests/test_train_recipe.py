"""Recipes, dataset checks and pre-training checks of xkde-train (no training here; fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT, shared
from train_helpers import build_datasets, corpus_texts, write_hub_folder
from xkde_data.errors import XkdeError
from xkde_train import data as data_mod
from xkde_train.launch import accelerate_command
from xkde_train.recipe import DataSource, build_trl_config, load_recipe, parse_recipe
from xkde_train.stages import check_chat_template, load_tokenizer, preflight

RECIPES = ROOT / "recipes"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Real Bi-ZsRE-derived xeit/tlpo folders and a tiny model with a tokenizer trained on them."""
    from xkde_train.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("recipe")
    xeit_dir, tlpo_dir, cases = build_datasets(root / "data", shared("bizsre/bizsre_test.json"), n_cases=3,
                                               kinds=("edit", "rephrase", "locality"))
    model_dir = build_tiny_model(root / "tiny", texts=corpus_texts(cases), vocab_size=600)
    return {"root": root, "xeit": xeit_dir, "tlpo": tlpo_dir, "model": model_dir}


def write_recipe(path: Path, **changes) -> Path:
    raw = yaml.safe_load((RECIPES / "tiny-cpu.yaml").read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = raw
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def recipe_for(ws, tmp_path, **changes):
    path = write_recipe(tmp_path / "recipe.yaml", **changes)
    return load_recipe(path, model=str(ws["model"]), data_dir=str(ws["root"] / "data"),
                       output_dir=str(tmp_path / "out"))


# ---------------------------------------------------------------- shipped recipes

@pytest.mark.parametrize("name", ["qwen2.5-7b-instruct", "llama2-7b-chat"])
def test_released_recipes_map_onto_trl_configs(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(RECIPES / f"{name}.yaml")
    assert recipe.algo == "orpo" and recipe.model.dtype == "bfloat16"
    sft = build_trl_config(recipe, "xeit", output_dir=str(tmp_path / "x"), use_cpu=True, bf16=False)
    assert (sft.learning_rate, sft.num_train_epochs, sft.weight_decay) == (1e-5, 5, 1e-4)
    assert (sft.adam_beta1, sft.adam_beta2, sft.warmup_steps) == (0.9, 0.95, 0.05)
    assert sft.lr_scheduler_type == "cosine" and sft.gradient_checkpointing
    assert recipe.xeit["bf16"] is True
    orpo = build_trl_config(recipe, "tlpo", output_dir=str(tmp_path / "t"), use_cpu=True, bf16=False)
    assert type(orpo).__name__ == "ORPOConfig"
    assert (orpo.learning_rate, orpo.beta, orpo.warmup_steps) == (1e-6, 0.1, 100)
    assert orpo.lr_scheduler_type == "cosine" and recipe.tlpo["bf16"] is True
    # 128 = per-device batch x accumulation x the 8 GPUs the recipe is written for
    assert orpo.per_device_train_batch_size * orpo.gradient_accumulation_steps * 4 == 128  # 4 GPUs, as released
    assert sft.report_to in ([], "none", ["none"]) or not sft.report_to


def test_accelerate_configs_parse():
    from accelerate.commands.config.config_args import load_config_from_file

    kinds = {n: str(load_config_from_file(str(RECIPES / "accelerate" / f"{n}.yaml")).distributed_type)
             for n in ("ddp", "fsdp", "zero2", "zero3")}
    assert kinds == {"ddp": "DistributedType.MULTI_GPU", "fsdp": "DistributedType.FSDP",
                     "zero2": "DistributedType.DEEPSPEED", "zero3": "DistributedType.DEEPSPEED"}


def test_algo_dpo_selects_dpo_config(tmp_path):
    recipe = parse_recipe({"model": {"name_or_path": "x/y"}, "algo": "DPO", "output_dir": str(tmp_path),
                           "tlpo": {"beta": 0.2, "learning_rate": 1e-6}})
    config = build_trl_config(recipe, "tlpo", output_dir=str(tmp_path), use_cpu=True)
    assert type(config).__name__ == "DPOConfig" and config.beta == 0.2


# ---------------------------------------------------------------- recipe errors

@pytest.mark.parametrize("raw, message, field", [
    ({"xeit": {"learnig_rate": 1e-5}}, "unknown recipe key 'learnig_rate' (did you mean 'learning_rate'?)",
     "xeit.learnig_rate"),
    ({"tlpo": {"betta": 0.1}}, "unknown recipe key 'betta' (did you mean 'beta'?)", "tlpo.betta"),
    ({"modle": {}}, "unknown recipe key 'modle' (did you mean 'model'?)", "modle"),
    ({"model": {"name_or_path": "a/b", "attn_impl": "sdpa"}}, "did you mean 'attn_implementation'?",
     "model.attn_impl"),
    ({"xeit": {"warmup_ratio": 0.05}}, "use 'warmup_steps (a float below 1", "xeit.warmup_ratio"),
    ({"algo": "ppo"}, "unknown algo 'ppo' (known: orpo, dpo)", "algo"),
    ({"lora": {"rank": 8}}, "unknown recipe key 'rank'", "lora.rank"),
    ({"tlpo": {"hub_token": "hf_secret"}}, "tokens never go in a recipe", "tlpo.hub_token"),
    ({"data": {"xeit": {"path": "d", "mixture": {"en-zh": -1}}}}, "mixture weight must be a positive number",
     "data.xeit.mixture.en-zh"),
])
def test_recipe_errors_name_the_key(raw, message, field, tmp_path):
    full = {"model": {"name_or_path": "a/b"}, "output_dir": str(tmp_path), **raw}
    with pytest.raises(XkdeError) as err:
        parse_recipe(full, file="r.yaml")
    assert message in str(err.value)
    assert err.value.field == field and str(err.value).startswith("r.yaml")
    assert "hf_secret" not in str(err.value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  name_or_path: a/b\nxeit: [unclosed\n", encoding="utf-8")
    with pytest.raises(XkdeError, match="not valid YAML") as err:
        load_recipe(path)
    assert err.value.line is not None and str(path) in str(err.value)


# ---------------------------------------------------------------- data

def test_mixture_weights_and_prompt_completion(workspace):
    source = DataSource(path=str(workspace["xeit"]), mixture={"en-zh": 2.5, "zh-en": 1.0})
    single = data_mod.load_config(source, "en-zh", "train")
    n_en_zh, n_zh_en = len(single), len(data_mod.load_config(source, "zh-en", "train"))
    mixed = data_mod.load_xeit(source)
    assert len(mixed) == round(2.5 * n_en_zh) + n_zh_en
    row = mixed[0]
    assert set(mixed.column_names) == {"prompt", "completion"}
    assert [m["role"] for m in row["prompt"]] == ["user"] and row["completion"][0]["role"] == "assistant"
    assert "[Updated Information]" in row["prompt"][0]["content"]
    half = data_mod.load_mixture(DataSource(path=str(workspace["tlpo"]), mixture={"en-zh": 0.5}), "tlpo")
    assert len(half) == round(0.5 * len(data_mod.load_config(
        DataSource(path=str(workspace["tlpo"])), "en-zh", "train")))


def test_dataset_errors(workspace, tmp_path):
    with pytest.raises(XkdeError, match="dataset not found") as err:
        data_mod.load_xeit(DataSource(path=str(tmp_path / "nope")))
    assert str(tmp_path / "nope") in str(err.value)
    with pytest.raises(XkdeError, match="dataset config 'en-fr' not found"):
        data_mod.load_xeit(DataSource(path=str(workspace["xeit"]), mixture={"en-fr": 1.0}))
    # A TL-PO folder is not an XE-IT one: the missing column is named.
    with pytest.raises(XkdeError, match=r"missing column\(s\) \['messages'\]") as err:
        data_mod.load_xeit(DataSource(path=str(workspace["tlpo"]), mixture={"all": 1.0}))
    assert err.value.field == "messages" and "config all" in str(err.value)
    bad = write_hub_folder(tmp_path / "bad", {"all": {"train": [
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        {"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]},
    ]}})
    with pytest.raises(XkdeError, match="last message must be from the assistant") as err:
        data_mod.load_xeit(DataSource(path=str(bad)))
    assert err.value.record == 1 and err.value.field == "messages"


# ---------------------------------------------------------------- checks before training

def test_preflight_accepts_the_tiny_setup(workspace, tmp_path):
    loaded = preflight(recipe_for(workspace, tmp_path))
    assert set(loaded) == {"xeit", "tlpo"} and len(loaded["xeit"]) > 0


def test_preflight_model_errors(workspace, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml"), model=str(tmp_path / "missing-model"),
                         data_dir=str(workspace["root"] / "data"), output_dir=str(tmp_path / "o"))
    with pytest.raises(XkdeError, match="model not found") as err:
        preflight(recipe)
    assert err.value.field == "model.name_or_path"
    (tmp_path / "empty-model").mkdir()
    recipe.model.name_or_path = str(tmp_path / "empty-model")
    with pytest.raises(XkdeError, match="no config.json"):
        preflight(recipe)


def test_chat_template_that_cannot_mark_the_answer(workspace, tmp_path):
    # Renders the conversation newest-first: the prompt is no longer a prefix, so answers cannot be found.
    reversed_template = ("{% for m in messages|reverse %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
                         "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    recipe = recipe_for(workspace, tmp_path, model__chat_template=reversed_template)
    with pytest.raises(XkdeError, match="chat template cannot mark the answer") as err:
        preflight(recipe)
    assert err.value.field == "model.chat_template"
    # assistant_only_loss needs generation markers, which a plain ChatML template lacks.
    plain = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
             "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    recipe = recipe_for(workspace, tmp_path, model__chat_template=plain, xeit__assistant_only_loss=True)
    with pytest.raises(XkdeError, match=r"generation %\} markers"):
        preflight(recipe)
    # ...and the tiny model's own template has them.
    preflight(recipe_for(workspace, tmp_path, xeit__assistant_only_loss=True), ["xeit"])


def test_tokenizer_without_template(workspace, tmp_path):
    recipe = recipe_for(workspace, tmp_path)
    tokenizer = load_tokenizer(recipe.model)
    tokenizer.chat_template = None
    example = data_mod.load_xeit(recipe.xeit_data)[0]
    with pytest.raises(XkdeError, match="has no chat template"):
        check_chat_template(tokenizer, example, source="tiny")


def test_accelerate_command():
    cmd = accelerate_command(["run", "--config", "r.yaml"], num_processes=2)
    assert cmd[1:3] == ["-m", "accelerate.commands.launch"] and "--multi_gpu" in cmd
    assert cmd[-5:] == ["--module", "xkde_train", "run", "--config", "r.yaml"]
    cfg = str(RECIPES / "accelerate" / "zero3.yaml")
    cmd = accelerate_command(["xeit", "-c", "r.yaml"], num_processes=8, config_file=cfg, num_machines=2,
                             machine_rank=1, main_process_ip="10.0.0.1", main_process_port=29500)
    assert cmd[cmd.index("--config_file") + 1] == cfg and "--multi_gpu" not in cmd
    assert cmd[cmd.index("--num_machines") + 1] == "2" and cmd[cmd.index("--machine_rank") + 1] == "1"
    assert cmd[cmd.index("--main_process_ip") + 1] == "10.0.0.1"
    # With only a config file, its own num_processes / machine settings stand.
    cmd = accelerate_command(["run"], config_file=cfg)
    assert "--num_processes" not in cmd and "--num_machines" not in cmd and "--mixed_precision" not in cmd
    with pytest.raises(XkdeError, match="accelerate config not found"):
        accelerate_command([], num_processes=2, config_file="nope.yaml")


# ---------------------------------------------------------------- the CLI: one line, exit 2

def test_cli_errors_are_one_line_exit_2(workspace, tmp_path, xkde_train_cli):
    typo = write_recipe(tmp_path / "typo.yaml", xeit__learnig_rate=1e-5)
    proc = xkde_train_cli("run", "--config", str(typo), "--model", str(workspace["model"]))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {typo}, field 'xeit.learnig_rate': unknown recipe key 'learnig_rate' "
        "(did you mean 'learning_rate'?)"]
    proc = xkde_train_cli("xeit", "--config", str(tmp_path / "none.yaml"))
    assert proc.returncode == 2 and "recipe not found" in proc.stderr and "Traceback" not in proc.stderr
    ok = write_recipe(tmp_path / "ok.yaml")
    proc = xkde_train_cli("xeit", "--config", str(ok), "--model", str(workspace["model"]),
                          "--data", str(tmp_path / "no-data"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "dataset not found" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_tiny_model_command(tmp_path, xkde_train_cli):
    texts = tmp_path / "texts.txt"
    texts.write_text("Which family does Ramalinaceae belong to? Lamiinae\n"
                     "IAAF综合项目挑战赛的创立时间是什么时候？2006年\n", encoding="utf-8")
    proc = xkde_train_cli("tiny-model", str(tmp_path / "tiny"), "--texts", str(texts))
    assert proc.returncode == 0, proc.stderr
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(tmp_path / "tiny")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "tiny")
    assert config.model_type == "qwen2" and config.num_hidden_layers == 2
    assert "{% generation %}" in tokenizer.chat_template
    assert tokenizer.decode(tokenizer("2006年")["input_ids"]) == "2006年"  # byte-level: round-trips any script
    proc = xkde_train_cli("tiny-model", str(tmp_path / "t2"), "--texts", str(tmp_path / "missing.txt"))
    assert proc.returncode == 2 and "text file not found" in proc.stderr and not (tmp_path / "t2").exists()
