"""Training recipes: one YAML file -> a validated :class:`Recipe` -> one TRL config per stage.

A recipe has a few small sections of our own (``model``, ``data``, ``lora``) and
two sections of *flat TRL keys*, ``xeit`` and ``tlpo``, passed unchanged to
``SFTConfig`` and to ``ORPOConfig`` / ``DPOConfig`` (chosen by ``algo``). Every
key is checked against the dataclass it ends up in, so a typo fails before any
model is loaded: ``unknown recipe key 'learnig_rate' (did you mean 'learning_rate'?)``.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xkde_data.errors import XkdeError

ALGOS = ("orpo", "dpo")
TOP_LEVEL_KEYS = ("model", "data", "lora", "algo", "output_dir", "xeit", "tlpo")
MODEL_KEYS = ("name_or_path", "dtype", "attn_implementation", "chat_template", "trust_remote_code")
DATA_KEYS = ("xeit", "tlpo")
DATA_SOURCE_KEYS = ("path", "mixture", "split", "eval_split", "seed")
# Set by the stage itself (paths, the loss mode); a recipe naming them would be ignored or break the layout.
RESERVED_TRL_KEYS = ("output_dir", "logging_dir", "hub_token")


@dataclass
class ModelSpec:
    name_or_path: str
    dtype: str | None = None
    attn_implementation: str | None = None
    chat_template: str | None = None  # a .jinja file (relative to the recipe) or the template text itself
    trust_remote_code: bool = False


@dataclass
class DataSource:
    """One stage's dataset: a local folder laid out as the Hub does, or a Hub id."""

    path: str
    mixture: dict[str, float] = field(default_factory=lambda: {"all": 1.0})
    split: str = "train"
    eval_split: str | None = None
    seed: int = 42


@dataclass
class Recipe:
    model: ModelSpec
    xeit_data: DataSource | None
    tlpo_data: DataSource | None
    output_dir: Path
    algo: str = "orpo"
    lora: dict[str, Any] | None = None
    xeit: dict[str, Any] = field(default_factory=dict)
    tlpo: dict[str, Any] = field(default_factory=dict)
    file: str | None = None

    def stage_dir(self, stage: str) -> Path:
        return self.output_dir / stage

    def final_dir(self, stage: str) -> Path:
        return self.output_dir / stage / "final"


# Keys that moved in transformers 5 / TRL 1.x, with where they went.
RENAMED_KEYS = {
    "warmup_ratio": "warmup_steps (a float below 1 is a ratio of the total steps)",
    "torch_dtype": "model.dtype",
    "model_name_or_path": "model.name_or_path",
    "max_seq_length": "max_length",
}


def _suggest(key: str, known) -> str:
    if key in RENAMED_KEYS:
        return f" (use '{RENAMED_KEYS[key]}')"
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keys(section: dict, known, *, file: str | None, where: str) -> None:
    for key in section:
        if key not in known:
            name = f"{where}.{key}" if where else str(key)
            raise XkdeError(f"unknown recipe key '{key}'{_suggest(str(key), known)}", file=file, field=name)


def _mapping(value: Any, *, file: str | None, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise XkdeError(f"expected a mapping, got {type(value).__name__}", file=file, field=where)
    return value


def trl_config_class(stage: str, algo: str = "orpo"):
    """The TRL config dataclass a stage's flat keys go into."""
    if stage == "xeit":
        from trl import SFTConfig
        return SFTConfig
    if algo == "dpo":
        from trl import DPOConfig
        return DPOConfig
    import os

    # ORPO lives in trl.experimental (as in the released code); the docs say so, once is enough.
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental.orpo import ORPOConfig
    return ORPOConfig


def trl_fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.init}


def _lora_fields() -> set[str]:
    from peft import LoraConfig
    return trl_fields(LoraConfig)


def _resolve(path: str, base: Path) -> str:
    """A relative path is relative to the current directory, else to the recipe's folder when it exists
    there; anything else is returned unchanged (it may be a Hub id)."""
    if Path(path).is_absolute() or Path(path).exists():
        return str(Path(path).absolute()) if Path(path).exists() else path
    if (base / path).exists():
        return str(base / path)
    return path


def _data_source(raw: Any, *, file: str | None, where: str, base: Path) -> DataSource | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"path": raw}
    raw = _mapping(raw, file=file, where=where)
    check_keys(raw, DATA_SOURCE_KEYS, file=file, where=where)
    if not raw.get("path"):
        raise XkdeError("missing dataset path (a folder or a Hub id)", file=file, field=f"{where}.path")
    path = _resolve(str(raw["path"]), base)
    mixture = raw.get("mixture", {"all": 1.0})
    if isinstance(mixture, list):
        mixture = {str(name): 1.0 for name in mixture}
    mixture = _mapping(mixture, file=file, where=f"{where}.mixture")
    for name, weight in mixture.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            raise XkdeError(f"mixture weight must be a positive number, got {weight!r}", file=file,
                            field=f"{where}.mixture.{name}")
    if not mixture:
        raise XkdeError("empty mixture: name at least one dataset config", file=file, field=f"{where}.mixture")
    return DataSource(path=path, mixture={str(k): float(v) for k, v in mixture.items()},
                      split=str(raw.get("split", "train")), eval_split=raw.get("eval_split"),
                      seed=int(raw.get("seed", 42)))


def parse_recipe(raw: Any, *, file: str | None = None, base: Path | None = None) -> Recipe:
    """Validate a recipe mapping (the parsed YAML)."""
    base = base or Path.cwd()
    raw = _mapping(raw, file=file, where="")
    check_keys(raw, TOP_LEVEL_KEYS, file=file, where="")

    model = _mapping(raw.get("model"), file=file, where="model")
    check_keys(model, MODEL_KEYS, file=file, where="model")
    if not model.get("name_or_path"):
        raise XkdeError("missing model path or Hub id", file=file, field="model.name_or_path")
    chat_template = model.get("chat_template")
    if chat_template and "{" not in chat_template:
        template_file = Path(_resolve(chat_template, base))
        if not template_file.is_file():
            raise XkdeError(f"chat template file not found: {template_file}", file=file, field="model.chat_template")
        chat_template = template_file.read_text(encoding="utf-8")
    name_or_path = _resolve(str(model["name_or_path"]), base)
    model_spec = ModelSpec(name_or_path=name_or_path, dtype=model.get("dtype"),
                           attn_implementation=model.get("attn_implementation"), chat_template=chat_template,
                           trust_remote_code=bool(model.get("trust_remote_code", False)))

    algo = str(raw.get("algo", "orpo")).lower()
    if algo not in ALGOS:
        raise XkdeError(f"unknown algo {raw.get('algo')!r} (known: {', '.join(ALGOS)})", file=file, field="algo")

    data = _mapping(raw.get("data"), file=file, where="data")
    check_keys(data, DATA_KEYS, file=file, where="data")
    xeit_data = _data_source(data.get("xeit"), file=file, where="data.xeit", base=base)
    tlpo_data = _data_source(data.get("tlpo"), file=file, where="data.tlpo", base=base)

    stages = {}
    for stage in ("xeit", "tlpo"):
        section = _mapping(raw.get(stage), file=file, where=stage)
        if "hub_token" in section:
            raise XkdeError("tokens never go in a recipe: set HF_TOKEN in the environment or run `hf auth login`",
                            file=file, field=f"{stage}.hub_token")
        if "output_dir" in section:
            raise XkdeError("set output_dir at the top level; each stage writes to OUTPUT_DIR/<stage>",
                            file=file, field=f"{stage}.output_dir")
        known = trl_fields(trl_config_class(stage, algo)) - set(RESERVED_TRL_KEYS)
        check_keys(section, known, file=file, where=stage)
        stages[stage] = dict(section)

    lora = raw.get("lora")
    if lora is not None:
        lora = _mapping(lora, file=file, where="lora")
        check_keys(lora, _lora_fields(), file=file, where="lora")

    if not raw.get("output_dir"):
        raise XkdeError("missing output_dir", file=file, field="output_dir")
    output_dir = Path(str(raw["output_dir"])).absolute()
    return Recipe(model=model_spec, xeit_data=xeit_data, tlpo_data=tlpo_data, output_dir=output_dir, algo=algo,
                  lora=lora, xeit=stages["xeit"], tlpo=stages["tlpo"], file=file)


def load_recipe(path: str | Path, *, model: str | None = None, data_dir: str | None = None,
                output_dir: str | None = None) -> Recipe:
    """Read and validate a recipe YAML.

    Relative paths inside it are relative to the current directory, or to the recipe's folder when they
    exist there (``output_dir``: the current directory). The keyword overrides are the command line's:
    ``model`` replaces ``model.name_or_path``, ``data_dir`` sets ``data.xeit.path`` / ``data.tlpo.path``
    to ``DATA_DIR/xeit`` / ``DATA_DIR/tlpo`` (mixtures kept), ``output_dir`` replaces ``output_dir``.
    """
    path = Path(path)
    if not path.is_file():
        raise XkdeError("recipe not found", file=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise XkdeError(f"not valid YAML: {problem}", file=str(path),
                        line=mark.line + 1 if mark is not None else None) from None
    if raw is None:
        raise XkdeError("empty recipe", file=str(path))
    if isinstance(raw, dict):
        raw = dict(raw)
        if model:
            raw["model"] = {**_mapping(raw.get("model"), file=str(path), where="model"), "name_or_path": model}
        if data_dir:
            data = dict(_mapping(raw.get("data"), file=str(path), where="data"))
            for stage in ("xeit", "tlpo"):
                section = data.get(stage)
                section = {"path": section} if isinstance(section, str) else dict(section or {})
                section["path"] = str(Path(data_dir) / stage)
                data[stage] = section
            raw["data"] = data
        if output_dir:
            raw["output_dir"] = output_dir
    return parse_recipe(raw, file=str(path), base=path.resolve().parent)


def build_trl_config(recipe: Recipe, stage: str, **forced: Any):
    """The TRL config of one stage: the recipe's flat keys plus what the stage layout fixes."""
    cls = trl_config_class(stage, recipe.algo)
    values = dict(recipe.xeit if stage == "xeit" else recipe.tlpo)
    values.setdefault("report_to", "none")  # tensorboard / wandb only when the recipe asks
    values.update(forced)
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise XkdeError(f"invalid {stage} settings: {str(err).splitlines()[0]}", file=recipe.file,
                        field=stage) from None
