"""``xkde-train run | xeit | tlpo``: train from a recipe, on one process or through accelerate."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated, Optional

import typer

from xkde_data.errors import XkdeError

Config = Annotated[str, typer.Option("--config", "-c", help="Recipe YAML (see recipes/ and docs/training.md).")]
Model = Annotated[Optional[str], typer.Option("--model", help="Override model.name_or_path (folder or Hub id).")]
Data = Annotated[Optional[str], typer.Option(
    "--data", help="Dataset root holding xeit/ and tlpo/ (as `xkde-data build` writes them); "
                   "overrides data.xeit.path and data.tlpo.path.")]
OutputDir = Annotated[Optional[str], typer.Option("--output-dir", "-o", help="Override output_dir.")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue an interrupted stage from its last checkpoint; "
                                                       "with `run`, finished stages are skipped.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Delete earlier checkpoints and outputs of the stage.")]
NumProcesses = Annotated[Optional[int], typer.Option(
    "--num-processes", "-n", min=1, help="Processes in all (GPUs, or CPU processes on gloo); >1 launches through "
                                         "accelerate. Default: 1, or the accelerate config's.")]
AccelerateConfig = Annotated[Optional[str], typer.Option(
    "--accelerate-config", help="accelerate config file, e.g. recipes/accelerate/fsdp.yaml (launches through "
                                "accelerate).")]
NumMachines = Annotated[Optional[int], typer.Option("--num-machines", min=1,
                                                    help="Machines (multi-node; accelerate's flag).")]
MachineRank = Annotated[Optional[int], typer.Option("--machine-rank", min=0,
                                                    help="This machine's rank (multi-node).")]
MainIp = Annotated[Optional[str], typer.Option("--main-process-ip", help="Address of machine 0 (multi-node).")]
MainPort = Annotated[Optional[int], typer.Option("--main-process-port", help="Port on machine 0 (multi-node).")]


def _cli_args(command: str, config: str, model, data, output_dir, resume, overwrite, extra=()) -> list[str]:
    args = [command, "--config", config]
    for flag, value in (("--model", model), ("--data", data), ("--output-dir", output_dir)):
        if value:
            args += [flag, value]
    args += (["--resume"] if resume else []) + (["--overwrite"] if overwrite else []) + list(extra)
    return args


def _print_summary(outcomes) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="xkde-train")
    for col in ("stage", "rows", "steps", "train loss", "resumed from", "model"):
        table.add_column(col)
    for o in outcomes:
        loss = "skipped (done)" if o.skipped else (f"{o.train_loss:.4f}" if o.train_loss is not None else "-")
        table.add_row(o.stage, str(o.train_rows), str(o.global_step), loss,
                      os.path.basename(o.resumed_from) if o.resumed_from else "-", o.model_dir)
    Console(stderr=True).print(table)


def _train(command: str, config: str, model, data, output_dir, resume: bool, overwrite: bool,
           num_processes, accelerate_config, num_machines, machine_rank, main_ip, main_port,
           init_model: str | None = None) -> None:
    from ..launch import is_launched_child, is_main_process, launch
    from ..recipe import load_recipe
    from ..stages import STAGES, preflight, run_pipeline, run_stage

    if resume and overwrite:
        raise XkdeError("--resume and --overwrite contradict each other; pass one", field="--overwrite")
    recipe = load_recipe(config, model=model, data_dir=data, output_dir=output_dir)
    stages = STAGES if command == "run" else (command,)
    distributed = (num_processes or 1) > 1 or accelerate_config is not None or (num_machines or 1) > 1
    if distributed and not is_launched_child():
        preflight(recipe, stages, model_path=init_model, resume=resume, overwrite=overwrite)  # fail once, here
        if overwrite:  # here, once, rather than racing in every process
            for stage in stages:
                shutil.rmtree(recipe.stage_dir(stage), ignore_errors=True)
        extra = ["--from", init_model] if init_model else []
        rc = launch(_cli_args(command, config, model, data, output_dir, resume, False, extra),
                    num_processes=num_processes, config_file=accelerate_config, num_machines=num_machines,
                    machine_rank=machine_rank, main_process_ip=main_ip, main_process_port=main_port)
        if rc:
            typer.echo(f"error: accelerate launch exited with code {rc}", err=True)
            sys.exit(rc)
        return
    if command == "run":
        outcomes = run_pipeline(recipe, resume=resume, overwrite=overwrite)
    else:
        outcomes = [run_stage(recipe, command, model_path=init_model, resume=resume, overwrite=overwrite)]
    if is_main_process():
        _print_summary(outcomes)


def run(config: Config, model: Model = None, data: Data = None, output_dir: OutputDir = None,
        resume: Resume = False, overwrite: Overwrite = False, num_processes: NumProcesses = None,
        accelerate_config: AccelerateConfig = None, num_machines: NumMachines = None, machine_rank: MachineRank = None,
        main_process_ip: MainIp = None, main_process_port: MainPort = None) -> None:
    """XE-IT (SFT, loss on answers only), then TL-PO (ORPO; `algo: dpo` for DPO) on the XE-IT model.

    Writes OUTPUT_DIR/xeit/final and OUTPUT_DIR/tlpo/final (model + tokenizer), checkpoints and a
    metrics.jsonl per stage. Everything is checked before training starts.
    """
    _train("run", config, model, data, output_dir, resume, overwrite, num_processes, accelerate_config,
           num_machines, machine_rank, main_process_ip, main_process_port)


def xeit(config: Config, model: Model = None, data: Data = None, output_dir: OutputDir = None,
         resume: Resume = False, overwrite: Overwrite = False, num_processes: NumProcesses = None,
         accelerate_config: AccelerateConfig = None, num_machines: NumMachines = None, machine_rank: MachineRank = None,
         main_process_ip: MainIp = None, main_process_port: MainPort = None) -> None:
    """Only stage 1, XE-IT: SFT on cross-lingual edit instances (answer tokens only)."""
    _train("xeit", config, model, data, output_dir, resume, overwrite, num_processes, accelerate_config,
           num_machines, machine_rank, main_process_ip, main_process_port)


def tlpo(config: Config,
         init_model: Annotated[Optional[str], typer.Option(
             "--from", help="Model to start from; default OUTPUT_DIR/xeit/final if it exists, else the "
                            "recipe's model.")] = None,
         model: Model = None, data: Data = None, output_dir: OutputDir = None,
         resume: Resume = False, overwrite: Overwrite = False, num_processes: NumProcesses = None,
         accelerate_config: AccelerateConfig = None, num_machines: NumMachines = None, machine_rank: MachineRank = None,
         main_process_ip: MainIp = None, main_process_port: MainPort = None) -> None:
    """Only stage 2, TL-PO: ORPO (or DPO) on pairs whose chosen answer is in the target language."""
    _train("tlpo", config, model, data, output_dir, resume, overwrite, num_processes, accelerate_config,
           num_machines, machine_rank, main_process_ip, main_process_port, init_model=init_model)


def tiny_model(
    out_dir: Annotated[str, typer.Argument(help="Folder to write the model and tokenizer to.")],
    texts: Annotated[Optional[str], typer.Option(
        "--texts", help="UTF-8 text file (one text per line) to train the tokenizer on; default: the demo "
                        "corpus.")] = None,
) -> None:
    """Build a tiny random Qwen2 (2 layers) + byte-level BPE tokenizer + chat template, offline, for smoke runs."""
    from pathlib import Path

    from ..tiny import build_tiny_model

    lines = None
    if texts:
        if not Path(texts).is_file():
            raise XkdeError("text file not found", file=texts)
        lines = [line for line in Path(texts).read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines:
            raise XkdeError("no text to train the tokenizer on", file=texts)
    path = build_tiny_model(out_dir, texts=lines)
    typer.echo(f"tiny model written to {path}")
