"""Against a real `chroma run` server on 127.0.0.1: ingest, answer, and a clear error when it is down;
behind an authenticating (and a TLS-terminating) reverse proxy, the token gets in and nothing else does."""

from __future__ import annotations

import http.client
import http.server
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.errors import IndexAccessDeniedError, IndexUnavailableError
from tests.conftest import DOC_ID, ROOT, SEED

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = _free_port()
    process = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield url, process
    process.kill()
    process.wait(timeout=10)


def test_ingest_and_answer_through_a_chroma_server(chroma_server, fresh_settings):
    from assistant import Assistant
    from ingest import ingest

    url, process = chroma_server
    settings = fresh_settings.model_copy(update={"chroma_url": url})
    assert ingest([str(SEED)], settings=settings).documents[0].written == 13
    assert ingest([str(SEED)], settings=settings).documents[0].written == 0
    assert not (fresh_settings.data_dir / "chroma").exists()  # nothing written locally

    bot = Assistant.load(settings)
    answer = bot.ask("Siapa Duta Besar AS untuk Indonesia?")
    assert [c.sentence_id for c in answer.citations] == [f"{DOC_ID}#12"]

    process.kill()
    process.wait(timeout=10)
    with pytest.raises(IndexUnavailableError, match="unavailable right now"):
        bot.retrieve("Siapa Duta Besar AS untuk Indonesia?")


def test_remove_against_a_server_deletes_only_the_removed_records(chroma_server, fresh_settings, tmp_path):
    """A server is one Chroma process, so removal deletes in place: the removed text is gone and the
    other documents' records were not copied (the same collection, the same records)."""
    import chromadb

    from assistant import Assistant
    from ingest import ingest, remove
    from tests.support.index_records import write_article

    url, _ = chroma_server
    settings = fresh_settings.model_copy(update={"chroma_url": url})
    cabinet = write_article(tmp_path / "kabinet.txt", "Presiden memimpin rapat kabinet di Istana Merdeka. Rapat membahas anggaran pendidikan 2025.\n")
    ingest([str(SEED), str(cabinet)], settings=settings)
    client = chromadb.HttpClient(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
    before = {c.name: c.get(include=[])["ids"] for c in client.list_collections() if "__s" in c.name}

    remove(["kabinet"], settings=settings)
    after = {c.name: c.get(include=["documents"]) for c in client.list_collections() if "__s" in c.name}
    assert list(after) == list(before)  # no new collection: nothing was copied
    [(name, stored)] = after.items()
    assert sorted(stored["ids"]) == sorted(i for i in before[name] if not i.startswith("kabinet#"))
    assert not [text for text in stored["documents"] if "Presiden" in text]
    assert Assistant.load(settings).retrieve("Siapa yang memimpin rapat kabinet?", k=1)[0].doc_id == DOC_ID


TOKEN = "s3cret-token-for-the-proxy-0123456789"


class AuthenticatingProxy:
    """What nginx or Caddy would do in production: pass a request on to Chroma only if it carries
    the token (`Authorization: Bearer …` or `X-Chroma-Token`), else answer 401 itself. With a
    certificate it also terminates TLS. Listens on 127.0.0.1 only."""

    def __init__(self, upstream: str, *, certificate: Path | None = None) -> None:
        self.token = TOKEN
        self.upstream = upstream.removeprefix("http://")
        self.refused = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as chromadb's httpx client expects

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bearer = self.headers.get("Authorization", "") == f"Bearer {proxy.token}"
                if not (bearer or self.headers.get("X-Chroma-Token") == proxy.token):
                    proxy.refused += 1
                    return self._answer(401, b'{"detail": "unauthorized"}', [("Content-Type", "application/json")])
                try:
                    upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
                    upstream.request(self.command, self.path, body=body, headers={"Content-Type": self.headers.get("Content-Type", "application/json")})
                    response = upstream.getresponse()
                    payload = response.read()
                    hop_by_hop = ("connection", "transfer-encoding", "content-length")
                    headers = [(name, value) for name, value in response.getheaders() if name.lower() not in hop_by_hop]
                    upstream.close()
                except OSError:
                    return self._answer(502, b"bad gateway", [])
                self._answer(response.status, payload, headers)

            def _answer(self, status, payload, headers):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate, certificate)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(chroma_server):
    url, _ = chroma_server
    guard = AuthenticatingProxy(url)
    yield guard
    guard.close()


def test_behind_an_authenticating_proxy_the_token_gets_in(proxy, fresh_settings, caplog):
    from assistant import Assistant
    from ingest import documents, ingest

    caplog.set_level(logging.DEBUG)
    settings = fresh_settings.with_overrides(chroma_url=proxy.url, chroma_token=TOKEN)
    assert ingest([str(SEED)], settings=settings).documents[0].written == 13
    bot = Assistant.load(settings)
    assert [c.sentence_id for c in bot.ask("Siapa Duta Besar AS untuk Indonesia?").citations] == [f"{DOC_ID}#12"]
    assert [info.doc_id for info in documents(settings=settings)] == [DOC_ID]
    assert proxy.refused == 0
    assert TOKEN not in caplog.text and TOKEN not in repr(settings)

    proxy.token = "rotated"  # the token is revoked while the bot runs
    with pytest.raises(IndexAccessDeniedError, match="ASSISTANT_CHROMA_TOKEN") as refused:
        bot.retrieve("Siapa yang mendampingi Menkomdigi?")
    assert TOKEN not in str(refused.value)


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789"])
def test_without_the_right_token_everything_fails_with_one_line_naming_the_setting(proxy, fresh_settings, token):
    from assistant import Assistant
    from ingest import ingest

    settings = fresh_settings.with_overrides(chroma_url=proxy.url, chroma_token=token)
    for attempt in (lambda: ingest([str(SEED)], settings=settings), lambda: Assistant.load(settings)):
        with pytest.raises(IndexAccessDeniedError) as refused:
            attempt()
        message = str(refused.value)
        assert "HTTP 401" in message and "ASSISTANT_CHROMA_TOKEN" in message and "unavailable" not in message
        assert (token or TOKEN) not in message
    assert proxy.refused >= 2

    env = {"ASSISTANT_DATA_DIR": str(fresh_settings.data_dir), "ASSISTANT_CHROMA_URL": proxy.url, "HF_HUB_OFFLINE": "1", "PATH": "", "COLUMNS": "60"}
    if token:
        env["ASSISTANT_CHROMA_TOKEN"] = token
    for command in (["ingest", str(SEED)], ["ask", "Siapa Duta Besar AS?"], ["documents"]):
        out = subprocess.run([sys.executable, "-m", "assistant.cli", *command], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert out.returncode == 1, command
        assert len(out.stderr.strip().splitlines()) == 1 and "ASSISTANT_CHROMA_TOKEN" in out.stderr, out.stderr
        assert (token or TOKEN) not in out.stdout + out.stderr
    assert not (fresh_settings.data_dir / "chroma").exists()


def test_a_proxy_whose_chroma_is_down_reports_the_index_unavailable(proxy, chroma_server, fresh_settings):
    from assistant import Assistant
    from ingest import ingest

    settings = fresh_settings.with_overrides(chroma_url=proxy.url, chroma_token=TOKEN)
    ingest([str(SEED)], settings=settings)
    bot = Assistant.load(settings)
    _, process = chroma_server
    process.kill()
    process.wait(timeout=10)
    with pytest.raises(IndexUnavailableError, match="HTTP 502"):
        bot.retrieve("Siapa Duta Besar AS untuk Indonesia?")


def test_an_https_url_through_a_tls_terminating_proxy(chroma_server, fresh_settings, tmp_path, monkeypatch):
    from assistant import Assistant
    from ingest import ingest

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed, so no certificate for the TLS proxy can be made")
    certificate = tmp_path / "proxy.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(certificate), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # trust the test's own certificate authority
    guard = AuthenticatingProxy(chroma_server[0], certificate=certificate)
    try:
        settings = fresh_settings.with_overrides(chroma_url=guard.url, chroma_headers={"X-Chroma-Token": TOKEN})
        assert guard.url.startswith("https://")
        assert ingest([str(SEED)], settings=settings).documents[0].written == 13
        assert Assistant.load(settings).retrieve("Siapa Duta Besar AS untuk Indonesia?", k=1)[0].sentence_id == f"{DOC_ID}#12"
    finally:
        guard.close()


@pytest.mark.parametrize("url", ["https://bot:hunter2-password@index.example.org", "https://index.example.org/chroma"])
def test_a_url_part_chroma_would_drop_is_refused_without_echoing_a_password(fresh_settings, url):
    from assistant import Assistant, ConfigurationError

    with pytest.raises(ConfigurationError, match="ASSISTANT_CHROMA_URL") as refused:
        Assistant.load(fresh_settings.with_overrides(chroma_url=url))
    assert "hunter2" not in str(refused.value)
