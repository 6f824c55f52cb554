"""A real OpenAI-compatible HTTP server on 127.0.0.1 that translates from gold parallel data.

For tests and benchmarks of anything that calls a chat-completions API::

    from xkde_data.testing.openai_server import FakeOpenAIServer, gold_from_corpora

    gold = gold_from_corpora(shared("bizsre/bizsre_test.json"))   # {target_lang: {source text: gold text}}
    with FakeOpenAIServer(gold, latency=0.0, api_key="sk-test") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
        server.inject("rate_limit", times=2)          # next 2 chat requests get 429 + Retry-After
        ...
        server.counts["chat"], server.counts["ok"], server.log[-1]

API (small on purpose):

* ``FakeOpenAIServer(gold, *, latency=0.0, api_key=None, models=None, json_schema=True,
  retry_after=0.05, slow_seconds=2.0)`` - a context manager; ``.base_url`` ends in ``/v1``.
  ``api_key=None`` accepts any key, else a wrong key gets 401. ``models`` (a set) makes other
  model names a 404 ``model_not_found``. ``json_schema=False`` answers
  ``response_format={"type": "json_schema"}`` with a 400, as some servers do.
* ``POST /v1/chat/completions``: reads the target language from the prompt's "into NAME (xx)"
  (the xkde translate prompt convention) and the JSON object in the user message, and replies
  with a JSON object with the same keys whose values are ``gold[xx][value]``, or the
  deterministic marker ``unknown_marker(xx, value)`` for strings the gold data lacks.
  With ``response_format`` absent (plain-text mode) the JSON is wrapped in prose and a fence.
  ``usage`` counts tokens with :func:`~xkde_data.translate.contract.estimate_tokens`.
* ``inject(fault, times=1, match=None)``: the next ``times`` chat requests (whose user message
  contains ``match``, if given) get the fault. Faults: ``rate_limit`` (429 + Retry-After),
  ``server_error`` (500), ``slow`` (reply after ``slow_seconds``), ``drop`` (close the
  connection without a reply), ``invalid_json``, ``missing_key``, ``extra_key``,
  ``empty_value``, ``wrong_language`` (values left untranslated), ``truncated`` (reply cut
  in half, ``finish_reason="length"``). ``times=None`` means every matching request.
* ``counts`` (Counter: ``chat`` requests, ``ok`` replies, ``fault.<name>``, ``http.<status>``),
  ``log`` (one dict per chat request: model, target_lang, keys, fault; never the key).
* Batch API: ``POST /v1/files`` (multipart), ``GET /v1/files/{id}/content``, ``POST /v1/batches``
  and ``GET /v1/batches/{id}`` (completes at once); ``run_batch_file(requests, results)`` does the
  same offline, like vLLM's ``run_batch`` (output lines: ``id``, ``custom_id``, ``response``
  {``status_code``, ``body``}, ``error``).

``python -m xkde_data.testing.openai_server --gold FILE... --latency 0.1`` serves until killed
and prints its base URL on the first line of stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter, deque
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from pathlib import Path
from typing import Any

FAULTS = ("rate_limit", "server_error", "slow", "drop", "invalid_json", "missing_key", "extra_key",
          "empty_value", "wrong_language", "truncated")

_TARGET = re.compile(r"into [^()\n]*\(([a-z]{2})\)")


def unknown_marker(lang: str, text: str) -> str:
    """What the server answers for a string its gold data does not know."""
    return f"<{lang}>{text}</{lang}>"


def gold_from_corpora(*paths: str | Path) -> dict[str, dict[str, str]]:
    """``{target_lang: {source text: gold text}}`` over every ordered language pair of every case.

    Pairs come from blocks of one case with the same fields (subject, prompt, rephrase_0,
    locality_0_answer, ...). The first case to map a string wins, so the mapping is deterministic.
    """
    from ..importers import load_cases
    from ..translate.contract import row_fields

    gold: dict[str, dict[str, str]] = {}
    for path in paths:
        for case in load_cases(str(path)):
            flat = {lang: row_fields(block.to_dict()) for lang, block in case.langs.items()}
            for a, fa in flat.items():
                for b, fb in flat.items():
                    if a == b:
                        continue
                    table = gold.setdefault(b, {})
                    for key, text in fa.items():
                        if key in fb:
                            table.setdefault(text, fb[key])
    return gold


def _error(message: str, kind: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _first_object(text: str) -> dict:
    from ..translate.contract import BadReply, first_json_object

    try:
        return first_json_object(text)
    except BadReply:
        return {}


class FakeOpenAIServer:
    def __init__(self, gold: dict[str, dict[str, str]] | None = None, *, latency: float = 0.0,
                 api_key: str | None = None, models: set[str] | None = None, json_schema: bool = True,
                 retry_after: float = 0.05, slow_seconds: float = 2.0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.gold = gold or {}
        self.latency = latency
        self.api_key = api_key
        self.models = models
        self.json_schema = json_schema
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.counts: Counter = Counter()
        self.log: list[dict[str, Any]] = []
        self._faults: deque[list] = deque()  # [fault, remaining or None, match]
        self._files: dict[str, bytes] = {}
        self._batches: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started (use it as a context manager or call start())")
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAIServer":
        """Serve from a background thread with its own event loop (one coroutine per connection)."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve_connection, self._host, self._port, backlog=512))
            except BaseException as err:  # reported in the caller's thread
                failure.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-openai-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is None or self._server is None:
            return

        async def shutdown() -> None:
            self._server.close()
            for writer in list(self._connections):
                writer.close()
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=5)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ faults
    def inject(self, fault: str, times: int | None = 1, match: str | None = None) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
        with self._lock:
            self._faults.append([fault, times, match])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, user_text: str) -> str | None:
        with self._lock:
            for entry in self._faults:
                fault, remaining, match = entry
                if match is not None and match not in user_text:
                    continue
                if remaining is not None:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._faults.remove(entry)
                return fault
        return None

    # ------------------------------------------------------------ answering
    def translate_fields(self, fields: dict[str, str], lang: str) -> dict[str, str]:
        table = self.gold.get(lang, {})
        return {k: table.get(v, unknown_marker(lang, v)) if isinstance(v, str) else v for k, v in fields.items()}

    def completion(self, body: dict, fault: str | None = None) -> tuple[int, dict]:
        """(status, JSON body) for one chat-completions request body; also used by the batch runner."""
        from ..translate.contract import estimate_tokens

        model = body.get("model")
        if self.models is not None and model not in self.models:
            return 404, _error(f"The model `{model}` does not exist or you do not have access to it.",
                               "invalid_request_error", "model_not_found")
        messages = body.get("messages") or []
        text = "\n".join(str(m.get("content", "")) for m in messages)
        user = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
        fmt = (body.get("response_format") or {}).get("type")
        if fmt == "json_schema" and not self.json_schema:
            return 400, _error("response_format of type json_schema is not supported by this model",
                               "invalid_request_error", None)
        lang_match = _TARGET.search(text)
        lang = lang_match.group(1) if lang_match else "xx"
        fields = _first_object(user)
        with self._lock:
            self.log.append({"model": model, "target_lang": lang, "keys": list(fields), "fault": fault,
                             "response_format": fmt})
        reply = self.translate_fields(fields, lang) if fault != "wrong_language" else dict(fields)
        finish = "stop"
        if fault == "missing_key" and reply:
            reply.pop(next(reversed(reply)))
        elif fault == "extra_key":
            reply["note"] = "translated"
        elif fault == "empty_value" and reply:
            reply[next(iter(reply))] = ""
        content = json.dumps(reply, ensure_ascii=False)
        if fault == "invalid_json":
            content = content.replace('":', '" ', 1) if content != "{}" else "{"
        elif fault == "truncated":
            content, finish = content[: max(len(content) // 2, 1)], "length"
        if fmt is None and fault not in ("invalid_json", "truncated"):
            content = f"Here is the translation:\n```json\n{content}\n```"
        prompt_tokens, completion_tokens = estimate_tokens(text), estimate_tokens(content)
        return 200, {
            # Reply ids need to be unique, not secret: no urandom syscall per reply.
            "id": f"chatcmpl-{random.getrandbits(48):012x}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": finish,
                                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def run_batch_file(self, requests_path: str | Path, results_path: str | Path) -> int:
        """Answer an OpenAI Batch input file offline (like vLLM's run_batch); returns the line count."""
        out = self._run_batch(Path(requests_path).read_bytes())
        Path(results_path).write_bytes(out)
        return out.count(b"\n")

    def _run_batch(self, data: bytes) -> bytes:
        lines = []
        for raw in data.decode("utf-8").splitlines():
            if not raw.strip():
                continue
            item = json.loads(raw)
            status, body = self.completion(item["body"])
            lines.append(json.dumps({
                "id": f"batch_req_{uuid.uuid4().hex[:12]}", "custom_id": item["custom_id"],
                "response": {"status_code": status, "request_id": uuid.uuid4().hex, "body": body},
                "error": None}, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


    # ------------------------------------------------------------ HTTP/1.1 transport
    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:  # no delayed-ACK stalls on keep-alive connections
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._connections.add(writer)
        try:
            while True:
                # The whole head in one read: one await per request instead of one per header line.
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as partial:
                    head = partial.partial
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                if not request_line.strip():
                    break
                method, target, _version = request_line.split(" ", 2)
                headers: dict[str, str] = {}
                for line in header_lines:
                    if not line:
                        break
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                reply = await self._dispatch(method, target.split("?")[0].rstrip("/"), headers, body)
                if reply is None:  # "drop": close without a reply
                    break
                status, payload, extra = reply
                data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                kind = "application/octet-stream" if isinstance(payload, bytes) else "application/json"
                head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Type: {kind}",
                        f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in extra.items())]
                with self._lock:
                    self.counts[f"http.{status}"] += 1
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def _authorized(self, headers: dict[str, str]) -> bool:
        return self.api_key is None or headers.get("authorization") == f"Bearer {self.api_key}"

    async def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes):
        if not self._authorized(headers):
            return 401, _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"), {}
        if method == "POST" and path == "/v1/chat/completions":
            return await self._chat(body)
        if method == "POST" and path == "/v1/files":
            return self._upload(headers, body)
        if method == "POST" and path == "/v1/batches":
            return self._batch(body)
        if method == "GET" and path == "/v1/models":
            names = sorted(self.models) if self.models else ["fake-translator"]
            return 200, {"object": "list", "data": [{"id": n, "object": "model"} for n in names]}, {}
        if method == "GET" and (m := re.fullmatch(r"/v1/files/([\w-]+)/content", path)):
            data = self._files.get(m.group(1))
            return (200, data, {}) if data is not None else (404, _error("no such file", "invalid_request_error", None), {})
        if method == "GET" and (m := re.fullmatch(r"/v1/batches/([\w-]+)", path)):
            batch = self._batches.get(m.group(1))
            return (200, batch, {}) if batch else (404, _error("no such batch", "invalid_request_error", None), {})
        return 404, _error(f"unknown path {path}", "invalid_request_error", None), {}

    async def _chat(self, raw: bytes):
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return 400, _error("request body is not JSON", "invalid_request_error", None), {}
        user = next((str(m.get("content", "")) for m in reversed(body.get("messages") or [])
                     if m.get("role") == "user"), "")
        fault = self._take_fault(user)
        with self._lock:
            self.counts["chat"] += 1
            if fault:
                self.counts[f"fault.{fault}"] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault == "rate_limit":
            return (429, _error("Rate limit reached, retry later.", "rate_limit_error", "rate_limit_exceeded"),
                    {"Retry-After": f"{self.retry_after:g}"})
        if fault == "server_error":
            return 500, _error("The server had an error.", "server_error", None), {}
        if fault == "drop":
            return None
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        status, reply = self.completion(body, fault)
        if status == 200:
            with self._lock:
                self.counts["ok"] += 1
        return status, reply, {}

    def _upload(self, headers: dict[str, str], raw: bytes):
        message = BytesParser(policy=HTTP_POLICY).parsebytes(
            f"Content-Type: {headers.get('content-type')}\r\n\r\n".encode() + raw)
        data = b""
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                data = part.get_payload(decode=True) or b""
        file_id = f"file-{uuid.uuid4().hex[:16]}"
        self._files[file_id] = data
        return 200, {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                     "filename": "batch.jsonl", "purpose": "batch", "status": "processed"}, {}

    def _batch(self, raw: bytes):
        request = json.loads(raw or b"{}")
        data = self._files.get(request.get("input_file_id", ""))
        if data is None:
            return 400, _error("unknown input_file_id", "invalid_request_error", None), {}
        output = self._run_batch(data)
        out_id = f"file-{uuid.uuid4().hex[:16]}"
        self._files[out_id] = output
        batch_id = f"batch_{uuid.uuid4().hex[:16]}"
        n = output.count(b"\n")
        batch = {"id": batch_id, "object": "batch", "endpoint": request.get("endpoint"),
                 "input_file_id": request["input_file_id"], "output_file_id": out_id, "error_file_id": None,
                 "completion_window": request.get("completion_window", "24h"), "status": "completed",
                 "created_at": int(time.time()), "completed_at": int(time.time()),
                 "request_counts": {"total": n, "completed": n, "failed": 0}}
        self._batches[batch_id] = batch
        return 200, batch, {}


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible translator from gold parallel data.")
    parser.add_argument("--gold", nargs="*", default=[], help="corpus files with parallel blocks (Bi-ZsRE, MzsRE)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each chat reply")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(gold_from_corpora(*args.gold), latency=args.latency, port=args.port,
                              api_key=args.api_key).start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
