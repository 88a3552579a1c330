"""nginx in front of the Rasa servers, the action servers and the web app.

The configuration is generated (`render_config`) and nginx runs as our own foreground process
(`proxy_service`) with everything it writes under one directory of var/, never as the system
service. What it does:

- **Rasa servers**: `hash $conversation_key consistent`, so every request of one conversation goes
  to the same server (Rasa 3.6's Redis lock store is not atomic across servers). The key is, in
  this order: the `X-Conversation-Key` header (our widget's REST requests) or the `conversation_key`
  query parameter (its socket.io connection: browsers cannot set headers there), both a keyed hash of
  the conversation id that the web app issues with the id (bot/channels/conversation_token.py), so no
  id appears in a logged URL; then, for older clients and the load generator, the `X-Conversation-Id`
  header and the `sender` query parameter (`?sender=<id>`); the id in
  `/conversations/<id>/...` (Rasa's HTTP API, which staff replies use), and for socket.io without
  either, the client's address (socket.io's long-polling needs every request of a session on one
  server). Requests with no key at all (messaging-app webhooks) are spread round robin.
- When a Rasa server dies, a refused connection makes nginx try the next server on the ring
  (`proxy_next_upstream error timeout`), and the conversation stays there while the dead server is
  marked down. A request that already reached the dead server is not sent again (nginx never
  repeats a POST that was sent), so a message is never processed twice.
- **Action servers**: round robin (`least_conn`), retried on another server when one refuses.
- **Web app**: passed through with `X-Forwarded-For $remote_addr` (the address nginx saw, never a list a
  client sent) and `-Proto`; the web app believes them only from its `TRUSTED_PROXIES`.
- **Access log**: method, path (never the query string; ids in Rasa's `/conversations/<id>/` paths are left
  out), status, the routing key only when the client sent one (a keyed hash), the upstream and timings.
- **HSTS**: `Strict-Transport-Security` on public listeners' answers to requests that came over TLS (here or
  at a TLS terminator in front that says so in `X-Forwarded-Proto`); nothing on plain http.
"""
from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from bot.runner import Service

HEALTH_PATH = "/__proxy/health"
# One line of the access log (`log_format proxied` below), for the tests and tools that read it.
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) \d+ key=(?P<key>\S+) '
                         r'upstream=(?P<upstream>[^ ].*?) rt=')


@dataclass
class Upstream:
    """A group of servers: `hash` (one conversation, one server) or `round_robin`."""

    name: str
    servers: list[str]
    balance: str = "hash"
    keepalive: int = 32


@dataclass
class Listener:
    """A port nginx listens on, passing everything to one upstream."""

    port: int
    upstream: str
    host: str = "127.0.0.1"
    # Rasa calls can wait for a conversation's lock (a dead server's ticket expires after
    # TICKET_LOCK_LIFETIME seconds), so allow long reads.
    read_timeout: int = 120
    # Public (people's browsers and messaging apps): small bodies and a request rate per address.
    # The action servers' listener is not: action calls carry the whole conversation.
    public: bool = True


@dataclass
class ProxyConfig:
    upstreams: list[Upstream]
    listeners: list[Listener]
    run_dir: Path
    workers: int = 1
    access_log: bool = True
    max_fails: int = 1
    fail_timeout: int = 10
    max_body: str = "32m"
    # Public listeners: a message is at most MAX_MESSAGE_CHARS (2,000) characters, so 64k is plenty;
    # requests per client address (loopback, e.g. a load generator on the proxy's host, is not limited).
    public_max_body: str = "64k"
    public_rate: str = "20r/s"
    public_burst: int = 40
    # In a container (deploy/docker-compose.yml, deploy/k8s/): logs to stdout/stderr, and the image's
    # own worker user (the official nginx image runs its workers as "nginx").
    container: bool = False
    # Kubernetes: re-resolve the servers' names (StatefulSet pods change addresses when they restart);
    # needs nginx 1.27.3 or later (`resolve` on upstream servers).
    resolver: Optional[str] = None
    extra_http: list[str] = field(default_factory=list)


def nginx_binary() -> Optional[str]:
    """The nginx executable (Debian puts it in /usr/sbin, which is not always on PATH)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
         if os.access(p, os.X_OK)), None)


def _worker_user() -> str:
    """nginx started by root drops its workers to an unprivileged user; not otherwise."""
    if os.geteuid() != 0:
        return ""
    for user, group in (("www-data", "www-data"), ("nobody", "nogroup"), ("nobody", "nobody")):
        try:
            pwd.getpwnam(user)
            grp.getgrnam(group)
            return f"user {user} {group};"
        except KeyError:
            continue
    return ""


def _upstream_block(upstream: Upstream, config: ProxyConfig) -> str:
    lines = [f"upstream {upstream.name} {{"]
    resolve = ""
    if config.resolver:
        lines.append(f"    zone {upstream.name} 256k;")
        resolve = " resolve"
    if upstream.balance == "hash":
        lines.append("    hash $conversation_key consistent;")
    elif upstream.balance == "round_robin":
        lines.append("    least_conn;")
    else:
        raise ValueError(f"unknown balance {upstream.balance!r}")
    for server in upstream.servers:
        lines.append(f"    server {server} max_fails={config.max_fails} fail_timeout={config.fail_timeout}s{resolve};")
    lines.append(f"    keepalive {upstream.keepalive};")
    lines.append("}")
    return "\n".join(lines)


def _server_block(listener: Listener, config: ProxyConfig) -> str:
    limits = (f"""
    client_max_body_size {config.public_max_body};
    client_body_buffer_size {config.public_max_body};
    limit_req zone=public burst={config.public_burst} nodelay;
    add_header Strict-Transport-Security $hsts always;""" if listener.public else "")
    return f"""server {{
    listen {listener.host}:{listener.port};{limits}
    location = {HEALTH_PATH} {{ access_log off; return 200 "ok\\n"; }}
    location / {{
        proxy_pass http://{listener.upstream};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Conversation-Key $conversation_key;
        proxy_connect_timeout 2s;
        proxy_read_timeout {listener.read_timeout}s;
        proxy_send_timeout {listener.read_timeout}s;
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;
        proxy_buffering off;
    }}
}}"""


def render_config(config: ProxyConfig) -> str:
    """The complete nginx.conf for `config` (everything nginx writes goes under `run_dir`)."""
    run = config.run_dir if config.container else config.run_dir.resolve()
    temp = run / "tmp"
    access_path = "/dev/stdout" if config.container else run / "access.log"
    access = f"access_log {access_path} proxied;" if config.access_log else "access_log off;"
    error_path = "/dev/stderr" if config.container else run / "error.log"
    user = "" if config.container else _worker_user()
    upstreams = "\n\n".join(_upstream_block(u, config) for u in config.upstreams)
    servers = "\n\n".join(_server_block(listener, config) for listener in config.listeners)
    extra_lines = list(config.extra_http)
    if config.resolver:
        extra_lines.insert(0, f"resolver {config.resolver} valid=10s ipv6=off;")
    extra = "\n".join("    " + line for line in extra_lines)
    return f"""# Generated by bot/deploy/nginx.py (deploy/nginx/nginx.conf: `python -m bot.deploy.nginx`).
{user}
worker_processes {config.workers};
daemon off;
pid {run / 'nginx.pid'};
error_log {error_path} warn;

events {{
    worker_connections 4096;
}}

http {{
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    # Action calls carry the whole conversation. Bodies are kept in memory up to the limit and
    # responses are not buffered (proxy_buffering off), so nginx never writes temporary files.
    client_max_body_size {config.max_body};
    client_body_buffer_size {config.max_body};
    server_tokens off;
    # The access log holds paths, never query strings (?sender=, ?token=) nor conversation ids: $log_path is the
    # path with the id of /conversations/<id>/... and .../staff_typing/<id> left out; $log_key is the routing key
    # when the client sent one (a keyed hash of the id, bot/channels/conversation_token.py), else "-".
    log_format proxied '$time_iso8601 $remote_addr "$request_method $log_path $server_protocol" $status '
                       '$body_bytes_sent key=$log_key upstream=$upstream_addr rt=$request_time '
                       'urt=$upstream_response_time';
    map $uri $log_path {{
        "~^/conversations/[^/]+(?<log_rest>/.*)?$"        "/conversations/-$log_rest";
        "~^(?<log_head>/webhooks/socketio/staff_typing/)"  "$log_head-";
        default                                           $uri;
    }}
    map "$http_x_conversation_key|$arg_conversation_key" $log_key {{
        "~^(?<log_hash>[0-9a-f]{{16,64}})\\|"               $log_hash;
        "~^\\|(?<log_hash>[0-9a-f]{{16,64}})$"              $log_hash;
        default                                           "-";
    }}
    {access}

    # Public listeners: requests per client address (bot/deploy/nginx.py `public_rate`); 429 beyond.
    geo $rate_limited {{
        default   1;
        127.0.0.1 0;
        ::1       0;
    }}
    map $rate_limited $rate_key {{
        0 "";
        1 $binary_remote_addr;
    }}
    limit_req_zone $rate_key zone=public:10m rate={config.public_rate};
    limit_req_status 429;

    # HSTS for requests that came over TLS (here, or at the TLS terminator in front); empty: not sent.
    map "$scheme|$http_x_forwarded_proto" $hsts {{
        "~https"  "max-age=63072000; includeSubDomains";
        default   "";
    }}

    # socket.io upgrades to WebSocket; other requests reuse kept-alive upstream connections.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}

    # Which conversation a request belongs to (see bot/deploy/nginx.py).
    # The widget sends a keyed hash of the id (X-Conversation-Key; ?conversation_key= on socket.io), never the id.
    map "$http_x_conversation_key|$arg_conversation_key|$http_x_conversation_id|$arg_sender|$uri" $conversation_key {{
        "~^(?<key>[^|]+)\\|"                              $key;
        "~^\\|(?<key>[^|]+)\\|"                            $key;
        "~^\\|\\|(?<key>[^|]+)\\|"                          $key;
        "~^\\|\\|\\|(?<key>[^|]+)\\|"                        $key;
        "~^\\|\\|\\|\\|/conversations/(?<key>[^/]+)/"        $key;
        "~^\\|\\|\\|\\|/socket\\.io/"                        $remote_addr;
        default                                           "";
    }}
{extra}

{upstreams}

{servers}
}}
"""


def write_config(config: ProxyConfig) -> Path:
    """Write nginx.conf (and its temp directories) under `config.run_dir`; returns its path."""
    run = config.run_dir.resolve()
    user = _worker_user()
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        path = run / "tmp" / name
        path.mkdir(parents=True, exist_ok=True)
        if user:  # the workers write request bodies and buffers here
            owner, group = user.split()[1], user.split()[2].rstrip(";")
            shutil.chown(path, owner, group)
    conf = run / "nginx.conf"
    conf.write_text(render_config(config))
    return conf


def proxy_service(config: ProxyConfig, name: str = "nginx") -> Service:
    """A `bot.runner.Service` that runs nginx with `config` in the foreground."""
    binary = nginx_binary()
    if not binary:
        raise FileNotFoundError("nginx is not installed (scripts/setup.sh installs Debian's nginx as root; "
                                "or: sudo apt-get install nginx)")
    conf = write_config(config)
    run = config.run_dir.resolve()
    listener = config.listeners[0]
    return Service(name, [binary, "-p", str(run), "-e", str(run / "error.log"), "-c", str(conf)],
                   f"http://127.0.0.1:{listener.port}{HEALTH_PATH}")


# --- the configuration of deploy/docker-compose.yml -------------------------------------------------

def compose_config(rasa: list[str], actions: list[str], web: str) -> ProxyConfig:
    """The proxy of deploy/docker-compose.yml: the same routing, container host names, all ports."""
    return ProxyConfig(
        [Upstream("rasa", rasa, "hash"), Upstream("actions", actions, "round_robin"),
         Upstream("web", [web], "round_robin")],
        [Listener(5005, "rasa", "0.0.0.0"), Listener(5055, "actions", "0.0.0.0", public=False),
         Listener(8000, "web", "0.0.0.0")],
        Path("/tmp/nginx"), workers=2, container=True,
    )


def kubernetes_config(rasa: list[str], web: str, resolver: str) -> ProxyConfig:
    """The proxy of deploy/k8s/: Rasa pods of the StatefulSet by name, the web app's Service.

    Action calls go from the Rasa pods to the action servers' Service directly (kube-proxy spreads them).
    """
    return ProxyConfig(
        [Upstream("rasa", rasa, "hash"), Upstream("web", [web], "round_robin")],
        [Listener(5005, "rasa", "0.0.0.0"), Listener(8000, "web", "0.0.0.0")],
        Path("/tmp/nginx"), workers=2, container=True, resolver=resolver,
    )


DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RENDERED = {
    DEPLOY / "nginx" / "nginx.conf": lambda: compose_config(
        rasa=["rasa-1:5005", "rasa-2:5005"], actions=["actions-1:5055", "actions-2:5055"], web="web:8000"),
    DEPLOY / "k8s" / "nginx.conf": lambda: kubernetes_config(
        rasa=[f"rasa-{i}.rasa.ipt.svc.cluster.local:5005" for i in range(2)],
        web="web.ipt.svc.cluster.local:8000", resolver="kube-dns.kube-system.svc.cluster.local"),
}


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.deploy.nginx [--check]`: write (or check) the proxy configurations of deploy/
    (nginx/nginx.conf for docker compose, k8s/nginx.conf for Kubernetes). Two Rasa servers each;
    for more, change RENDERED here (and the replicas) and run it again."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, config in RENDERED.items():
        rendered = render_config(config())
        if args.check:
            if not path.exists() or path.read_text() != rendered:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered)
        print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(map(str, stale))}: run python -m bot.deploy.nginx", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
