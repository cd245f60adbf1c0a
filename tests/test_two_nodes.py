"""Two nodes, one database (#14): the web tier keeps no state of its own.

Two ``backoffice serve`` processes, each with its own var directory, share one database and
one SECRET_KEY behind Debian's HAProxy (round robin, ``option forwardfor``, the nodes trust
that one proxy). Every answer names its node (``X-Backend-Server``, added by HAProxy), so
each test shows which node did what: a session, a login lock-out, an Idempotency-Key and
the audit chain hold whichever node answers.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest

from backoffice.ops.demo import DEMO_PASSWORD
from tests.support import (
    NODE_HEADER,
    PIN_HEADER,
    cli_env,
    run_cli,
    running_balancer,
    running_nodes,
    scratch_database,
)

NODES = ["node-a", "node-b"]
#: A second client machine: Linux routes all of 127.0.0.0/8 to the loopback interface.
OTHER_ADDRESS = "127.0.0.2"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def node(self) -> str:
        return self.headers[NODE_HEADER]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """A browser or API client at one address, talking to the balancer only.

    Each request has its own connection from ``address``; cookies are kept as a browser
    keeps them. ``node=`` pins a request to a node (HAProxy's ``use-server``); without it,
    the balancer takes the next node in turn.
    """

    base: str
    address: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        *,
        node: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        url = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port, timeout=60, source_address=(self.address, 0)
        )
        sent = self.headers | (headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if node:
            sent[PIN_HEADER] = node
        try:
            conn.request(method, path, body, sent)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            conn.close()
        for line in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:  # Django deletes a cookie by sending it empty
                    self.cookies.pop(name, None)
        if node:
            assert answer.node == node, f"asked for {node}, answered by {answer.node}"
        return answer

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)

    def post_json(self, path: str, data: object, **kw: Any) -> Answer:
        headers = {"Content-Type": "application/json"} | kw.pop("headers", {})
        return self.request("POST", path, json.dumps(data), headers=headers, **kw)

    def post_form(self, path: str, data: dict[str, str], **kw: Any) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, urllib.parse.urlencode(data), headers=headers, **kw)

    def log_in(self, username: str, password: str, *, form_from: str, post_to: str) -> Answer:
        """The login form from one node, the password posted to another (CSRF and all)."""
        page = self.get("/login/", node=form_from)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "login form without CSRF token"
        return self.post_form(
            "/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token[1].decode()},
            node=post_to,
        )


@dataclass
class Cluster:
    base: str
    env: dict[str, str]  # the shell's: the same database, for `backoffice` commands
    tokens: dict[str, str]

    def client(self, address: str = "127.0.0.1") -> Client:
        return Client(self.base, address)

    def api(self, username: str) -> Client:
        client = self.client()
        client.headers["Authorization"] = f"Bearer {self.tokens[username]}"
        return client

    def cases_with(self, creditor: str) -> int:
        done = run_cli(
            "shell",
            "--no-imports",
            "-c",
            "from backoffice.cases.models import Case; "
            f"print(Case.objects.filter(payload__creditor={creditor!r}).count())",
            env=self.env,
        )
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip())


MAKERS = ["anna.schmidt", "lukas.becker"]
CHECKERS = ["lena.schulz", "maria.keller"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The demo bank in a scratch database, two nodes on it and HAProxy in front."""
    tmp = tmp_path_factory.mktemp("two-nodes")
    with scratch_database(tmp, migrated=True) as url:
        shared = {
            "BACKOFFICE_SECRET_KEY": secrets.token_urlsafe(50),
            "BACKOFFICE_PLAIN_HTTP": "1",
            "BACKOFFICE_TRUSTED_PROXIES": "1",  # HAProxy appends the client's address
        }
        env = cli_env(url, tmp / "var-shell", **shared)
        setup = run_cli("demo", "--no-serve", env=env, timeout=300)
        assert setup.returncode == 0, setup.stderr
        tokens = {}
        for username in MAKERS + CHECKERS:
            made = run_cli(
                "token", "create", username, "--password-stdin", env=env, stdin=DEMO_PASSWORD
            )
            assert made.returncode == 0, made.stderr
            tokens[username] = made.stdout.strip()
        envs = {name: cli_env(url, tmp / f"var-{name}", **shared) for name in NODES}
        with running_nodes(envs) as ports, running_balancer(tmp, ports) as base:
            yield Cluster(base, env, tokens)


def test_consecutive_requests_are_answered_by_both_nodes_in_turn(cluster: Cluster) -> None:
    client = cluster.client()
    answered = [client.get("/healthz") for _ in range(4)]
    assert all(a.status == 200 for a in answered)
    nodes = [a.node for a in answered]
    assert set(nodes) == set(NODES)
    assert nodes[0] != nodes[1] and nodes[1] != nodes[2] and nodes[2] != nodes[3]


def test_a_session_from_one_node_holds_on_the_other_and_logout_ends_it_on_both(
    cluster: Cluster,
) -> None:
    browser = cluster.client()
    logged_in = browser.log_in("lena.schulz", DEMO_PASSWORD, form_from="node-a", post_to="node-b")
    assert logged_in.status == 302, logged_in.body[:500]
    assert "sessionid" in browser.cookies
    for node in NODES:
        me = browser.get("/api/v1/me", node=node)
        assert me.status == 200 and me.json()["username"] == "lena.schulz"
        inbox = browser.get("/inbox/", node=node)
        assert inbox.status == 200

    session = dict(browser.cookies)
    page = browser.get("/inbox/", node="node-b")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token, "no logout form with a CSRF token on the inbox page"
    logout = browser.post_form(
        "/logout/", {"csrfmiddlewaretoken": token[1].decode()}, node="node-b"
    )
    assert logout.status in {200, 302}
    # the old cookie, sent again, is dead on the other node too: the session was the database's
    stale = cluster.client()
    stale.cookies = session
    for node in NODES:
        assert stale.get("/api/v1/me", node=node).status == 401


def test_a_login_lock_out_counts_and_holds_on_both_nodes_for_that_address_only(
    cluster: Cluster,
) -> None:
    guesser = cluster.client()
    failures = [
        guesser.log_in("julia.wagner", f"wrong-{i}", form_from=node, post_to=node)
        for i, node in zip(range(5), NODES * 3, strict=False)
    ]
    assert {f.node for f in failures} == set(NODES)  # the five were spread over both nodes
    assert all(f.status in {200, 429} for f in failures)
    for node in NODES:  # now the right password is refused from that address on either node
        refused = guesser.log_in("julia.wagner", DEMO_PASSWORD, form_from=node, post_to=node)
        assert refused.status == 429, (node, refused.status)
        assert b"Too many failed attempts" in refused.body
        assert "sessionid" not in guesser.cookies
    elsewhere = cluster.client(OTHER_ADDRESS)  # the same name from another machine
    for node in NODES:
        elsewhere.cookies.clear()
        allowed = elsewhere.log_in("julia.wagner", DEMO_PASSWORD, form_from=node, post_to=node)
        assert allowed.status == 302, (node, allowed.status, allowed.body[:300])
        assert elsewhere.get("/api/v1/me", node=node).json()["username"] == "julia.wagner"


def _payment(creditor: str) -> dict[str, object]:
    return {
        "process": "payment-release",
        "payload": {
            "creditor": creditor,
            "iban": "DE89370400440532013000",
            "amount": {"amount": "250.00", "currency": "EUR"},
            "value_date": "2026-12-01",
            "purpose": "two nodes",
        },
        "submit": True,
    }


def test_an_idempotency_key_is_honoured_whichever_node_sees_the_retry(cluster: Cluster) -> None:
    maker = cluster.api("anna.schmidt")
    key = {"Idempotency-Key": secrets.token_hex(16)}
    first = maker.post_json("/api/v1/cases", _payment("Retry AG"), headers=key, node="node-a")
    assert first.status == 201, first.body[:500]
    assert "Idempotent-Replayed" not in first.headers
    retry = maker.post_json("/api/v1/cases", _payment("Retry AG"), headers=key, node="node-b")
    assert retry.status == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    reused = maker.post_json("/api/v1/cases", _payment("Other GmbH"), headers=key, node="node-b")
    assert reused.status == 422
    assert reused.json()["code"] == "idempotency.key_reused"
    assert cluster.cases_with("Retry AG") == 1
    assert cluster.cases_with("Other GmbH") == 0


def test_the_same_key_sent_to_both_nodes_at_once_starts_one_case(cluster: Cluster) -> None:
    maker = cluster.api("lukas.becker")
    key = {"Idempotency-Key": secrets.token_hex(16)}
    answers: dict[str, Answer] = {}
    start = threading.Barrier(len(NODES))

    def send(node: str) -> None:
        start.wait()
        answers[node] = maker.post_json(
            "/api/v1/cases", _payment("Race KG"), headers=key, node=node
        )

    threads = [threading.Thread(target=send, args=(node,)) for node in NODES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status for a in answers.values()] == [201, 201]
    assert len({a.json()["id"] for a in answers.values()}) == 1
    replayed = [a.headers.get("Idempotent-Replayed") for a in answers.values()]
    assert sorted(replayed, key=str) == [None, "true"]  # one did it, the other replayed it
    assert cluster.cases_with("Race KG") == 1


def test_concurrent_writes_through_both_nodes_append_to_one_verified_chain(
    cluster: Cluster, tmp_path: Path
) -> None:
    answered: list[Answer] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        maker = cluster.api(MAKERS[index % 2])
        checker = cluster.api(CHECKERS[index % 2])
        try:
            for n in range(4):
                started = maker.post_json("/api/v1/cases", _payment(f"Chain {index}-{n}"))
                assert started.status == 201, started.body[:300]
                released = checker.post_json(
                    f"/api/v1/cases/{started.json()['id']}/actions", {"action": "release"}
                )
                assert released.status == 200, released.body[:300]
                assert released.json()["status"] == "released"
                with lock:
                    answered.extend([started, released])
        except AssertionError as exc:
            with lock:
                errors.append(f"client {index}: {exc}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(answered) == 32

    verified = run_cli("audit", "verify", env=cluster.env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK")

    export = tmp_path / "audit.jsonl"
    exported = run_cli("audit", "export", "--output", str(export), env=cluster.env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    events = [line for line in lines if line["kind"] == "event"]
    node_of = {a.headers["X-Request-ID"]: a.node for a in answered}
    seqs: dict[str, list[int]] = {name: [] for name in NODES}
    for event in events:
        if event["request_id"] in node_of:
            seqs[node_of[event["request_id"]]].append(event["seq"])
    # every request wrote its events, and both nodes' events are woven into the one chain
    assert {e["request_id"] for e in events} >= set(node_of)
    a, b = seqs["node-a"], seqs["node-b"]
    assert a and b
    assert min(a) < max(b) and min(b) < max(a)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
