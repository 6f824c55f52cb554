"""`xkde-data push` against a real Hub-like HTTP server on 127.0.0.1 (xkde_data.testing.hub_server)."""

from __future__ import annotations

import pytest
import yaml

from export_helpers import bizsre_kept, write_build
from xkde_data.errors import XkdeError
from xkde_data.export import merge_card, push_build
from xkde_data.testing.hub_server import HubServer

TOKEN = "hf_xkdeTestSecret0123456789"


@pytest.fixture
def build(tmp_path):
    write_build(bizsre_kept(12), ["en", "zh"], tmp_path / "build", validation_fraction=0.3)
    return tmp_path / "build"


@pytest.fixture
def hub(monkeypatch, tmp_path):
    with HubServer(token=TOKEN) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored login, no shared cache
        monkeypatch.delenv("HF_TOKEN", raising=False)
        yield server


def _local_files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_cli_push_uploads_both_datasets_intact_and_never_prints_the_token(build, hub, xkde_data_cli, tmp_path):
    done = xkde_data_cli("push", str(build), "--repo-id", "xkde-org/demo", "--private",
                         env={"HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf-home")})
    assert done.returncode == 0, done.stderr
    for kind in ("xeit", "tlpo"):
        remote = hub.files("datasets", f"xkde-org/demo-{kind}")
        local = _local_files(build / kind)
        assert {p: remote[p] for p in local} == local  # every parquet shard and the card, byte for byte
        assert set(remote) - set(local) == {".gitattributes"}
        assert hub.repo("datasets", f"xkde-org/demo-{kind}").private
    assert "committed" in done.stdout and "xkde-org/demo-tlpo" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    # huggingface_hub also fetches its public agent registry, without credentials
    sent = [r for r in hub.requests if r.path.startswith("/api/") and r.path != "/api/agent-harnesses"]
    assert sent and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in sent)
    assert not any(TOKEN.encode() in r.body or TOKEN in r.path for r in hub.requests)
    assert not any(TOKEN.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_identical_repush_makes_no_commit(build, hub):
    first = push_build(build, "org/ds", token=TOKEN)
    commits = {kind: hub.commit_count("datasets", f"org/ds-{kind}") for kind in ("xeit", "tlpo")}
    second = push_build(build, "org/ds", token=TOKEN)
    assert all(first[k]["committed"] and not second[k]["committed"] for k in ("xeit", "tlpo"))
    assert second["xeit"]["commit"] == first["xeit"]["commit"]
    assert {kind: hub.commit_count("datasets", f"org/ds-{kind}") for kind in ("xeit", "tlpo")} == commits


def test_remote_card_metadata_is_merged_and_stale_shards_removed(build, hub, tmp_path):
    push_build(build, "org/ds", token=TOKEN)
    repo = hub.repo("datasets", "org/ds-xeit")
    files = hub.files("datasets", "org/ds-xeit")
    text = files["README.md"].decode()
    edited = text.replace("---\n", "---\nannotations_creators:\n- expert-generated\nthumbnail: cover.png\n", 1)
    edited = edited.replace("tags:\n", "tags:\n- hand-added\n", 1)
    files["README.md"] = edited.encode()
    files["data/en-zh/train-00001-of-00002.parquet"] = b"an old shard"
    repo.commit("main", "edited on the Hub", files)

    push_build(build, "org/ds", token=TOKEN)
    remote = hub.files("datasets", "org/ds-xeit")
    card = remote["README.md"].decode()
    meta = yaml.safe_load(card.split("---\n")[1])
    ours = yaml.safe_load((build / "xeit" / "README.md").read_text().split("---\n")[1])
    assert meta["annotations_creators"] == ["expert-generated"] and meta["thumbnail"] == "cover.png"
    assert meta["tags"] == [*ours["tags"], "hand-added"]
    assert meta["configs"] == ours["configs"] and meta["license"] == ours["license"]
    assert card.split("---\n", 2)[2] == (build / "xeit" / "README.md").read_text().split("---\n", 2)[2]
    assert "data/en-zh/train-00001-of-00002.parquet" not in remote
    commits = hub.commit_count("datasets", "org/ds-xeit")
    push_build(build, "org/ds", token=TOKEN)  # the merged card is stable: nothing to commit
    assert hub.commit_count("datasets", "org/ds-xeit") == commits


def test_revision_and_pull_request(build, hub):
    result = push_build(build, "org/ds", token=TOKEN, revision="v1")
    assert result["xeit"]["committed"]
    assert "README.md" in hub.files("datasets", "org/ds-xeit", "v1")
    assert "README.md" not in hub.files("datasets", "org/ds-xeit", "main")
    pr = push_build(build, "org/ds", token=TOKEN, create_pr=True)
    assert pr["tlpo"]["pr_url"].endswith("/datasets/org/ds-tlpo/discussions/1")
    assert "README.md" in hub.files("datasets", "org/ds-tlpo", "refs/pr/1")
    assert "README.md" not in hub.files("datasets", "org/ds-tlpo", "main")


def test_push_without_a_token_fails_in_one_line_before_any_request(build, hub, xkde_data_cli, tmp_path):
    done = xkde_data_cli("push", str(build), "--repo-id", "org/ds",
                         env={"HF_ENDPOINT": hub.url, "HF_TOKEN": "", "HF_HOME": str(tmp_path / "empty-home")})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no Hugging Face token: set HF_TOKEN or run `hf auth login` (a write token)"]
    assert hub.requests == []


def test_push_with_a_rejected_token_is_one_line(build, hub, xkde_data_cli, tmp_path):
    wrong = "hf_wrongTokenValue987"
    done = xkde_data_cli("push", str(build), "--repo-id", "org/ds",
                         env={"HF_ENDPOINT": hub.url, "HF_TOKEN": wrong, "HF_HOME": str(tmp_path / "h")})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "HTTP 401" in lines[0] and "org/ds-xeit" in lines[0]
    assert wrong not in done.stderr + done.stdout


def test_push_refuses_bad_input(build, tmp_path):
    with pytest.raises(XkdeError, match="expected ORG/NAME"):
        push_build(build, "no-namespace", token=TOKEN)
    with pytest.raises(XkdeError, match="not a build folder"):
        push_build(tmp_path / "nothing", "org/ds", token=TOKEN)


def test_merge_card_keeps_our_values_and_adds_theirs():
    ours = "---\nlicense: other\ntags:\n- a\n---\n# Ours\n"
    theirs = "---\nlicense: mit\ntags:\n- b\nextra: 1\n---\n# Theirs\n"
    merged = merge_card(theirs, ours)
    meta = yaml.safe_load(merged.split("---\n")[1])
    assert meta == {"license": "other", "tags": ["a", "b"], "extra": 1}
    assert merged.endswith("# Ours\n")
    assert merge_card(ours, ours) == ours
