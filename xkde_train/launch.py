"""Scale-out through accelerate: re-run the same ``xkde-train`` command under ``accelerate launch``.

One machine, N processes: ``--num-processes N`` (DDP over torchrun; on a machine
without GPUs it is gloo on CPU). FSDP / DeepSpeed: ``--accelerate-config
recipes/accelerate/<name>.yaml``. Several machines: the same command on each
with ``--num-machines``, ``--machine-rank``, ``--main-process-ip``,
``--main-process-port`` (accelerate's flags).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from xkde_data.errors import XkdeError

# Set in the launched processes, so they train instead of launching again.
CHILD_ENV = "XKDE_TRAIN_LAUNCHED"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def is_launched_child() -> bool:
    return os.environ.get(CHILD_ENV) == "1"


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def accelerate_command(cli_args: list[str], *, num_processes: int | None = None, config_file: str | None = None,
                       num_machines: int | None = None, machine_rank: int | None = None,
                       main_process_ip: str | None = None, main_process_port: int | None = None) -> list[str]:
    """``python -m accelerate.commands.launch ... --module xkde_train CLI_ARGS``.

    Only the flags given are passed, so a config file's values stand unless overridden."""
    if num_processes is not None and num_processes < 1:
        raise XkdeError(f"--num-processes must be at least 1, got {num_processes}", field="--num-processes")
    if num_processes is None and not config_file:
        raise XkdeError("pass --num-processes or --accelerate-config", field="--num-processes")
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    for flag, value in (("--num_processes", num_processes), ("--num_machines", num_machines),
                        ("--machine_rank", machine_rank)):
        if value is not None:
            cmd += [flag, str(value)]
    if config_file:
        if not Path(config_file).is_file():
            raise XkdeError("accelerate config not found", file=config_file, field="--accelerate-config")
        cmd += ["--config_file", config_file]
    else:
        # The TRL config decides precision (bf16: true in the recipe); torchrun-based DDP otherwise.
        cmd += ["--mixed_precision", "no", "--dynamo_backend", "no"]
        if num_processes > 1 or (num_machines or 1) > 1:
            cmd.append("--multi_gpu")
    if main_process_ip:
        cmd += ["--main_process_ip", main_process_ip]
    if main_process_port:
        cmd += ["--main_process_port", str(main_process_port)]
    return cmd + ["--module", "xkde_train", *cli_args]


def launch(cli_args: list[str], **kwargs) -> int:
    """Run ``xkde-train CLI_ARGS`` in ``num_processes`` processes; returns the exit code."""
    cmd = accelerate_command(cli_args, **kwargs)
    env = {**os.environ, CHILD_ENV: "1"}
    # The package may be used from a checkout rather than installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run(cmd, env=env).returncode
