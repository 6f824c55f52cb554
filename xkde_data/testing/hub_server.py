"""A small Hugging Face Hub on 127.0.0.1: the routes ``huggingface_hub`` 2.x calls to create repos,
commit files (preupload + ndjson commit), branch, list trees, read repo info and download files.

It keeps repos in memory as git-like commits (path -> bytes), answers ``preupload`` with
``uploadMode: regular`` plus the stored file's git blob id (so unchanged files are skipped
client-side, as on the real Hub) and records every request, so tests can assert what
arrived byte for byte. Use::

    with HubServer(token="hf_test") as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        ...
        hub.file("datasets", "org/name-xeit", "README.md")
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

REPO_TYPES = ("models", "datasets", "spaces")
_API = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)/(preupload|commit|revision|tree|branch)/(.+)$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")


def git_blob_id(data: bytes) -> str:
    """The git object id of a blob (what the Hub reports as a regular file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    message: str
    files: dict[str, bytes]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # branch or refs/pr/N -> commit oid
    pull_requests: int = 0

    def commit(self, ref: str, message: str, files: dict[str, bytes]) -> Commit:
        parent = self.refs.get(ref)
        digest = hashlib.sha1(json.dumps(
            [parent, message, sorted((p, git_blob_id(b)) for p, b in files.items())]).encode()).hexdigest()
        commit = Commit(digest, parent, message, dict(files))
        self.commits[digest] = commit
        self.refs[ref] = digest
        return commit

    def head(self, ref: str) -> Commit | None:
        oid = self.refs.get(ref) or (ref if ref in self.commits else None)
        return self.commits.get(oid) if oid else None


@dataclass
class RecordedRequest:
    """One request as it arrived; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HubServer:
    """The in-memory Hub; a context manager that serves on a free port of 127.0.0.1."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token  # when set, requests must carry "Authorization: Bearer <token>"
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> "HubServer":
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- inspection helpers for tests
    def repo(self, repo_type: str, repo_id: str) -> Repo:
        return self.repos[(repo_type, repo_id)]

    def files(self, repo_type: str, repo_id: str, ref: str = "main") -> dict[str, bytes]:
        head = self.repo(repo_type, repo_id).head(ref)
        return dict(head.files) if head else {}

    def file(self, repo_type: str, repo_id: str, path: str, ref: str = "main") -> bytes:
        return self.files(repo_type, repo_id, ref)[path]

    def commit_count(self, repo_type: str, repo_id: str) -> int:
        return len(self.repo(repo_type, repo_id).commits)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_hub: HubServer

    def log_message(self, format, *args) -> None:  # keep test output clean
        pass

    # -- plumbing
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload=None, *, raw: bytes | None = None, headers: dict | None = None,
              head: bool = False) -> None:
        data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None, head: bool = False) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, {"error": message}, headers=headers, head=head)

    def _handle(self, method: str) -> None:
        hub = self.server_hub
        body = self._body() if method in ("POST", "PUT") else b""
        with hub.lock:
            hub.requests.append(RecordedRequest(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self.path == "/api/agent-harnesses":  # a public registry huggingface_hub reads; not served here
            return self._error(404, "not served by this test hub", head=method == "HEAD")
        if hub.token is not None and self.headers.get("Authorization") != f"Bearer {hub.token}":
            return self._error(401, "Invalid credentials in Authorization header", head=method == "HEAD")
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with hub.lock:
            try:
                self._route(method, url.path, query, body)
            except (ValueError, KeyError) as err:
                self._error(400, f"bad request: {err}")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    # -- routes
    def _route(self, method: str, path: str, query: dict, body: bytes) -> None:
        hub = self.server_hub
        if method == "POST" and path == "/api/repos/create":
            return self._create_repo(json.loads(body))
        if method == "POST" and path == "/api/validate-yaml":
            return self._send(200, {"errors": [], "warnings": []})
        if method == "GET" and path == "/api/whoami-v2":
            return self._send(200, {"type": "user", "name": "xkde-tester", "auth": {"type": "access_token"}})
        match = _API.match(path)
        if match:
            repo_type, repo_id, action, rest = match.groups()
            repo = hub.repos.get((repo_type, repo_id))
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            rev, _, sub = rest.partition("/")
            rev = unquote(rev)
            if method == "POST" and action == "preupload":
                return self._preupload(repo, rev, json.loads(body))
            if method == "POST" and action == "commit":
                return self._commit(repo, rev, body, create_pr=query.get("create_pr") == "1")
            if method == "POST" and action == "branch":
                return self._branch(repo, rev, json.loads(body or b"{}"))
            if method == "GET" and action == "revision":
                return self._repo_info(repo, rev)
            if method == "GET" and action == "tree":
                return self._tree(repo, rev, unquote(sub))
        match = _RESOLVE.match(path)
        if match and method in ("GET", "HEAD"):
            prefix, repo_id, rev, file_path = match.groups()
            return self._resolve(prefix or "models", repo_id, unquote(rev),
                                 unquote(file_path), head=method == "HEAD")
        self._error(404, f"no route for {method} {path}")

    def _create_repo(self, payload: dict) -> None:
        hub = self.server_hub
        repo_type = f"{payload.get('type') or 'model'}s"
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else \
            f"xkde-tester/{payload['name']}"
        url = f"{self.server_hub.url}/{'' if repo_type == 'models' else repo_type + '/'}{repo_id}"
        if (repo_type, repo_id) in hub.repos:
            return self._send(409, {"error": "You already created this repo", "url": url})
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        repo = hub.repos[(repo_type, repo_id)] = Repo(repo_type, repo_id, private)
        repo.commit("main", "initial commit", {".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"})
        self._send(200, {"url": url, "name": repo_id})

    def _preupload(self, repo: Repo, rev: str, payload: dict) -> None:
        head = repo.head(rev)
        existing = head.files if head else {}
        files = []
        for item in payload["files"]:
            entry = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            if item["path"] in existing:
                entry["oid"] = git_blob_id(existing[item["path"]])
            files.append(entry)
        self._send(200, {"files": files, "commitOid": head.oid if head else None})

    def _commit(self, repo: Repo, rev: str, body: bytes, *, create_pr: bool) -> None:
        head = repo.head(rev)
        if head is None:
            return self._error(404, f"Revision not found: {rev}", "RevisionNotFound")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next(item["value"] for item in lines if item["key"] == "header")
        files = dict(head.files)
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                if value.get("encoding") != "base64":
                    raise ValueError(f"unsupported encoding {value.get('encoding')!r}")
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                if value["path"] not in files:
                    return self._error(404, "A file with this name doesn't exist", "EntryNotFound")
                del files[value["path"]]
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: b for p, b in files.items() if not p.startswith(prefix)}
            elif key == "lfsFile":
                raise ValueError("this server only accepts regular uploads")
        message = header.get("summary", "")
        if header.get("description"):
            message += "\n\n" + header["description"]
        response = {}
        ref = rev
        if create_pr:
            repo.pull_requests += 1
            ref = f"refs/pr/{repo.pull_requests}"
            repo.refs[ref] = head.oid
            prefix = "" if repo.repo_type == "models" else f"{repo.repo_type}/"
            response["pullRequestUrl"] = f"{self.server_hub.url}/{prefix}{repo.repo_id}/discussions/{repo.pull_requests}"
        elif rev not in repo.refs:
            return self._error(400, f"Invalid rev id: {rev}", "RevisionNotFound")
        commit = repo.commit(ref, message, files)
        prefix = "" if repo.repo_type == "models" else f"{repo.repo_type}/"
        response.update(commitUrl=f"{self.server_hub.url}/{prefix}{repo.repo_id}/commit/{commit.oid}",
                        commitOid=commit.oid, success=True)
        self._send(200, response)

    def _branch(self, repo: Repo, branch: str, payload: dict) -> None:
        if branch in repo.refs:
            return self._error(409, f"Reference already exists: refs/heads/{branch}")
        start = repo.head(payload.get("startingPoint") or "main")
        if start is None:
            return self._error(404, "Revision not found", "RevisionNotFound")
        repo.refs[branch] = start.oid
        self._send(200, {})

    def _repo_info(self, repo: Repo, rev: str) -> None:
        head = repo.head(rev)
        if head is None:
            return self._error(404, f"Revision not found: {rev}", "RevisionNotFound")
        self._send(200, {"id": repo.repo_id, "sha": head.oid, "private": repo.private,
                         "siblings": [{"rfilename": p} for p in sorted(head.files)]})

    def _tree(self, repo: Repo, rev: str, sub: str) -> None:
        head = repo.head(rev)
        if head is None:
            return self._error(404, f"Revision not found: {rev}", "RevisionNotFound")
        prefix = sub.strip("/") + "/" if sub.strip("/") else ""
        entries = [{"type": "file", "path": p, "size": len(b), "oid": git_blob_id(b)}
                   for p, b in sorted(head.files.items()) if p.startswith(prefix)]
        self._send(200, entries)

    def _resolve(self, repo_type: str, repo_id: str, rev: str, path: str, *, head: bool) -> None:
        repo = self.server_hub.repos.get((repo_type, repo_id))
        if repo is None:
            return self._error(404, "Repository not found", "RepoNotFound", head=head)
        commit = repo.head(rev)
        if commit is None:
            return self._error(404, "Revision not found", "RevisionNotFound", head=head)
        if path not in commit.files:
            return self._error(404, "Entry not found", "EntryNotFound", head=head)
        data = commit.files[path]
        self._send(200, raw=data, head=head,
                   headers={"X-Repo-Commit": commit.oid, "ETag": f'"{git_blob_id(data)}"'})
