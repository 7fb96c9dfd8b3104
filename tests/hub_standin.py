"""A stand-in for the Hugging Face Hub on 127.0.0.1, for running the notebooks' Hub paths in tests.

It serves local folders under real repository names, speaking the part of the Hub's HTTP API
that huggingface_hub, transformers and datasets use:

    HEAD/GET /{repo}/resolve/{revision}/{path}              a model's file
    HEAD/GET /datasets/{repo}/resolve/{revision}/{path}     a dataset's file
    GET      /api/{models,datasets}/{repo}[/revision/{r}]   repository info (sha, siblings)
    GET      /api/{models,datasets}/{repo}/tree/{r}[/{dir}] file listing
    POST     /api/{models,datasets}/{repo}/paths-info/{r}   info on given paths
    GET      /cdn/{sha256}                                  where large files redirect to (on a second
                                                            port: another origin, as a real CDN is)

and the part of ModelScope's API that `modelscope.snapshot_download` uses (the same repositories,
under whatever names they are registered with; point the client at it with MODELSCOPE_ENDPOINT):

    GET      /api/v1/models/{repo}/repo/files?Revision=&Recursive=[&Root=]   file listing with Sha256
    GET      /api/v1/models/{repo}/repo?Revision=&FilePath=                   a file
    GET      /api/v1/repos/internalAccelerationInfo     "not inside Alibaba Cloud" (no region to use)

As on the Hub, `resolve` answers with ETag and X-Repo-Commit; files over LARGE bytes are
"LFS" files: 302 to /cdn/ with X-Linked-Etag and X-Linked-Size (a HEAD is not followed, a
GET is).  A missing file is 404 with X-Error-Code EntryNotFound, a missing repository 404
with RepoNotFound.  Any request it does not understand gets 404 and is recorded in
`unknown`: tests assert that list is empty, so a client that starts using a new route is
noticed instead of silently working around it.  Every request, known or not, is recorded in
`requests` (a test that serves nothing asserts no request was made).

    with HubStandIn({"model": {"google-bert/bert-base-chinese": folder}}) as hub:
        os.environ["HF_ENDPOINT"] = hub.url   # before huggingface_hub is imported
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LARGE = 1_000_000
RESOLVE = re.compile(r"^/(?:(datasets)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
API = re.compile(r"^/api/(models|datasets)/([^/]+/[^/]+)(?:/(revision|tree|paths-info)/([^/]+)(?:/(.*))?)?$")
MODELSCOPE = re.compile(r"^/api/v1/models/([^/]+/[^/]+)/repo(/files)?$")


class Repo:
    def __init__(self, folder: Path):
        self.files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
        self.sha256 = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in self.files.items()}
        listing = json.dumps(self.sha256, sort_keys=True).encode()
        self.commit = hashlib.sha1(listing).hexdigest()  # a 40-hex commit id that changes with the content

    def entry(self, name: str) -> dict:
        size = self.files[name].stat().st_size
        entry = {"type": "file", "path": name, "size": size, "oid": self.sha256[name][:40]}
        if size > LARGE:
            entry["lfs"] = {"oid": self.sha256[name], "size": size, "pointerSize": 134}
        return entry

    def tree(self, directory: str, recursive: bool) -> list[dict]:
        prefix = f"{directory.strip('/')}/" if directory.strip("/") else ""
        entries, folders = [], set()
        for name in self.files:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/", 1)[0])
            else:
                entries.append(self.entry(name))
                if recursive:
                    parts = rest.split("/")[:-1]
                    folders.update(prefix + "/".join(parts[:i + 1]) for i in range(len(parts)))
        return [{"type": "directory", "path": f, "oid": "0" * 40, "size": 0} for f in sorted(folders)] + entries


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args):
        pass

    def parse_request(self):
        if parsed := super().parse_request():
            self.server.requests.append(f"{self.command} {self.path}")
        return parsed

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, kind="application/json"):
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data, status=200, headers=None):
        self._send(status, json.dumps(data).encode(), headers)

    def _unknown(self):
        self.server.unknown.append(f"{self.command} {self.path}")
        self._send(404, b'{"error": "unknown route in the Hub stand-in"}')

    def _not_found(self, code: str, what: str):
        self._json({"error": f"{what} not found"}, 404, {"X-Error-Code": code, "X-Error-Message": f"{what} not found"})

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/cdn/"):
            return self._cdn(path[len("/cdn/"):])
        if path == "/api/v1/repos/internalAccelerationInfo":
            return self._json({"Code": 200, "Data": {"InternalRegionQueryAddress": ""}, "Success": True})
        if match := MODELSCOPE.match(path):
            return self._modelscope(match[1], bool(match[2]), parse_qs(urlsplit(self.path).query))
        if match := RESOLVE.match(path):
            return self._resolve("dataset" if match[1] else "model", match[2], match[4])
        if (match := API.match(path)) and match[3] != "paths-info":
            return self._api(match[1][:-1], match[2], match[3], match[5] or "")
        self._unknown()

    def do_POST(self):
        path = unquote(urlsplit(self.path).path)
        match = API.match(path)
        if not match or match[3] != "paths-info":
            return self._unknown()
        repo = self.server.repos.get((match[1][:-1], match[2]))
        if repo is None:
            return self._not_found("RepoNotFound", f"repository {match[2]}")
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        asked = form.get("paths", [])
        entries = [repo.entry(p) for p in asked if p in repo.files]
        entries += [d for d in repo.tree("", True) if d["type"] == "directory" and d["path"] in asked]
        self._json(entries)

    def _resolve(self, kind: str, name: str, filename: str):
        repo = self.server.repos.get((kind, name))
        if repo is None:
            return self._not_found("RepoNotFound", f"repository {name}")
        if filename not in repo.files:
            return self._not_found("EntryNotFound", f"{filename} in {name}")
        sha, size = repo.sha256[filename], repo.files[filename].stat().st_size
        headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{sha[:40]}"', "Accept-Ranges": "bytes"}
        if size > LARGE:
            headers.update({"X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(size),
                            "Location": f"{self.server.cdn_url}/cdn/{sha}"})
            return self._send(302, b"", headers)
        self._send(200, b"" if self.command == "HEAD" else repo.files[filename].read_bytes(),
                   {**headers, "Content-Length": str(size)}, "application/octet-stream")

    def _cdn(self, sha: str):
        for repo in self.server.repos.values():
            for name, digest in repo.sha256.items():
                if digest == sha:
                    body = b"" if self.command == "HEAD" else repo.files[name].read_bytes()
                    return self._send(200, body, {"Content-Length": str(repo.files[name].stat().st_size),
                                                  "ETag": f'"{sha}"'}, "application/octet-stream")
        self._unknown()

    def _api(self, kind: str, name: str, action: str | None, rest: str):
        repo = self.server.repos.get((kind, name))
        if repo is None:
            return self._not_found("RepoNotFound", f"repository {name}")
        if action == "tree":
            recursive = parse_qs(urlsplit(self.path).query).get("recursive", ["false"])[0].lower() == "true"
            return self._json(repo.tree(rest, recursive))
        if action not in (None, "revision"):
            return self._unknown()
        siblings = [{"rfilename": n, "size": e["size"]} for n in repo.files for e in [repo.entry(n)]]
        self._json({"id": name, "sha": repo.commit, "private": False, "gated": False, "disabled": False,
                    "siblings": siblings, "tags": [], "cardData": {}, "lastModified": "2026-01-01T00:00:00.000Z"})


    def _modelscope(self, name: str, listing: bool, query: dict):
        repo = self.server.repos.get(("model", name))
        if repo is None:  # ModelScope's error envelope: HTTP 404 with Code and Message
            return self._json({"Code": 10010205001, "Message": f"model {name} not found", "Success": False}, 404)
        if listing:
            root = query.get("Root", [""])[0].strip("/")
            recursive = query.get("Recursive", ["False"])[0].lower() == "true"
            files = [{"Name": e["path"].rsplit("/", 1)[-1], "Path": e["path"], "Size": e.get("size", 0),
                      "Type": "tree" if e["type"] == "directory" else "blob",
                      **({"Sha256": repo.sha256[e["path"]]} if e["type"] == "file" else {})}
                     for e in repo.tree(root, recursive)]
            return self._json({"Code": 200, "Data": {"Files": files}, "Success": True})
        filename = query.get("FilePath", [""])[0]
        if filename not in repo.files:
            return self._json({"Code": 10010205001, "Message": f"{filename} not found", "Success": False}, 404)
        self._send(200, b"" if self.command == "HEAD" else repo.files[filename].read_bytes(),
                   {"Content-Length": str(repo.files[filename].stat().st_size)}, "application/octet-stream")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    repos: dict
    unknown: list
    requests: list
    cdn_url: str


class HubStandIn:
    """`repos`: {"model" or "dataset": {"owner/name": folder}}."""

    def __init__(self, repos: dict[str, dict[str, Path]]):
        loaded = {(kind, name): Repo(Path(folder)) for kind, named in repos.items() for name, folder in named.items()}
        self.unknown: list[str] = []
        self.requests: list[str] = []
        self.servers = [_Server(("127.0.0.1", 0), _Handler) for _ in range(2)]  # the Hub, and its "CDN"
        hub, cdn = self.servers
        for server in self.servers:
            server.repos, server.unknown, server.requests = loaded, self.unknown, self.requests
            server.cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
        self.url = f"http://127.0.0.1:{hub.server_address[1]}"

    def __enter__(self) -> "HubStandIn":
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        for server in self.servers:
            server.shutdown()
            server.server_close()
