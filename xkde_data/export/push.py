"""Push a build's two datasets to the Hugging Face Hub: ``{repo_id}-xeit`` and ``{repo_id}-tlpo``."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..errors import XkdeError

DATASET_KINDS = ("xeit", "tlpo")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
#: Card keys whose values from an existing remote card are kept beside ours (union), not replaced.
UNION_KEYS = ("tags",)


def repo_ids(repo_id: str) -> dict[str, str]:
    """The Hub repos of a push: ``{"xeit": "ORG/NAME-xeit", "tlpo": "ORG/NAME-tlpo"}``."""
    return {kind: f"{repo_id}-{kind}" for kind in DATASET_KINDS}


def resolve_token(token: str | None = None) -> str:
    """The token to push with: the argument, else ``HF_TOKEN``, else the stored ``hf auth login`` token."""
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise XkdeError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a write token)")
    return token


def push_build(build_dir: Path, repo_id: str, *, private: bool = False, revision: str | None = None,
               create_pr: bool = False, token: str | None = None) -> dict[str, dict]:
    """Upload ``BUILD_DIR/xeit`` and ``BUILD_DIR/tlpo`` as dataset repos ``{repo_id}-xeit`` / ``-tlpo``.

    Repos are created if missing (``private`` only applies then), ``revision`` names a branch
    (created from main if missing), ``create_pr`` opens a pull request instead of committing
    to it. The endpoint is ``HF_ENDPOINT`` (default: huggingface.co). Files that are already
    on the Hub unchanged are skipped, so re-pushing identical content makes no commit; remote
    ``data/`` files the build no longer has are deleted. An existing card's metadata keys
    that xkde does not write are kept (``tags`` are united), ours win where both exist.

    Returns ``{kind: {"repo_id", "url", "commit", "committed", "pr_url"}}``.
    """
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    build_dir = Path(build_dir)
    if not _REPO_ID.match(repo_id or ""):
        raise XkdeError(f"expected ORG/NAME, got {repo_id!r}", field="--repo-id")
    folders = {kind: build_dir / kind for kind in DATASET_KINDS}
    for kind, folder in folders.items():
        if not (folder / "README.md").is_file() or not (folder / "data").is_dir():
            raise XkdeError(f"not a build folder: {kind}/README.md or {kind}/data/ is missing", file=str(build_dir))
    token = resolve_token(token)
    endpoint = os.environ.get("HF_ENDPOINT") or constants.ENDPOINT
    api = HfApi(endpoint=endpoint, token=token)
    branch = revision or "main"
    results: dict[str, dict] = {}
    for kind, repo in repo_ids(repo_id).items():
        try:
            results[kind] = _push_one(api, folders[kind], repo, private=private, branch=branch, create_pr=create_pr)
        except HfHubHTTPError as err:
            status = err.response.status_code if err.response is not None else "?"
            detail = (str(err).splitlines() or [""])[0]
            raise XkdeError(f"push to {repo} failed (HTTP {status}): {detail}", file=endpoint) from None
        except OSError as err:  # connection refused, DNS, ...
            raise XkdeError(f"push to {repo} failed: {err.__class__.__name__}: {err}", file=endpoint) from None
    return results


def _push_one(api, folder: Path, repo: str, *, private: bool, branch: str, create_pr: bool) -> dict:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
    if branch != "main":
        api.create_branch(repo, branch=branch, repo_type="dataset", exist_ok=True)
    before = api.repo_info(repo, repo_type="dataset", revision=branch).sha
    remote = set(api.list_repo_files(repo, repo_type="dataset", revision=branch))
    local = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    card = (folder / "README.md").read_text(encoding="utf-8")
    if "README.md" in remote:
        card = merge_card(_download_card(api, repo, branch), card)
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=card.encode("utf-8") if path == "README.md"
                                     else str(folder / path)) for path in local]
    operations += [CommitOperationDelete(path_in_repo=path) for path in sorted(remote - set(local))
                   if path.startswith("data/")]
    info = api.create_commit(repo, operations, repo_type="dataset", revision=branch, create_pr=create_pr,
                             commit_message=f"xkde: update dataset ({len(local)} files)")
    return {"repo_id": repo, "url": f"{api.endpoint}/datasets/{repo}", "commit": info.oid,
            "committed": info.oid != before or bool(info.pr_url), "pr_url": info.pr_url}


def _download_card(api, repo: str, branch: str) -> str:
    with tempfile.TemporaryDirectory(prefix="xkde-card-") as tmp:
        path = api.hf_hub_download(repo, "README.md", repo_type="dataset", revision=branch, cache_dir=tmp)
        return Path(path).read_text(encoding="utf-8")


def merge_card(remote: str, ours: str) -> str:
    """Our card, plus the metadata keys of the remote card that ours lacks (``tags`` united)."""
    from huggingface_hub import DatasetCard

    theirs = DatasetCard(remote).data.to_dict()
    card = DatasetCard(ours)
    mine = card.data.to_dict()
    for key, value in theirs.items():
        if key not in mine:
            card.data[key] = value
        elif key in UNION_KEYS and isinstance(value, list) and isinstance(mine[key], list):
            card.data[key] = list(dict.fromkeys([*mine[key], *value]))
    return card.content if card.data.to_dict() != mine else ours
