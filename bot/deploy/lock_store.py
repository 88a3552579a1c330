"""Rasa's Redis lock store, configured from one URL (`REDIS_URL`) like the database.

deploy/endpoints.prod.yml names `bot.deploy.lock_store.RedisUrlLockStore` with `url: ${REDIS_URL}`;
Rasa's own `type: redis` wants host, port, db and password as separate keys. Everything else is
Rasa's `RedisLockStore`: each conversation's ticket lock is a JSON value under
`<prefix>:lock:<conversation id>`. Its read-modify-write of a ticket is not atomic across servers,
which is why the proxy sends every request of one conversation to the same Rasa server; Redis then
keeps the lock when that server dies and another one takes the conversation over (it waits for the
dead server's ticket to expire: `TICKET_LOCK_LIFETIME` seconds).
"""
from __future__ import annotations

from typing import Any, Optional

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.connection import SSLConnection, parse_url

from bot.settings import get_settings


def redis_url() -> str:
    """The configured Redis URL (`REDIS_URL`), the local server's database 0 by default."""
    return get_settings().redis_url


def redis_settings(url: str) -> dict[str, Any]:
    """Keyword arguments of Rasa's `RedisLockStore` for a `redis://` or `rediss://` URL."""
    parsed = parse_url(url)
    return {
        "host": parsed.get("host") or "127.0.0.1",
        "port": int(parsed.get("port") or 6379),
        "db": int(parsed.get("db") or 0),
        "username": parsed.get("username"),
        "password": parsed.get("password"),
        "use_ssl": parsed.get("connection_class") is SSLConnection,
    }


class RedisUrlLockStore(RedisLockStore):
    """`RedisLockStore` on `url` (the endpoint's `url`, else `REDIS_URL`).

    The key prefix comes from the endpoint's `key_prefix` or `REDIS_KEY_PREFIX` (letters and
    digits; default none), so several deployments or test runs can share one Redis database.
    """

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        url: Optional[str] = None,
        key_prefix: Optional[str] = None,
        socket_timeout: Optional[float] = None,
    ) -> None:
        kwargs = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = url or (endpoint_config.url if endpoint_config else None) or redis_url()
        key_prefix = key_prefix or kwargs.get("key_prefix") or get_settings().redis_key_prefix or None
        settings = redis_settings(url)
        settings["socket_timeout"] = float(socket_timeout or kwargs.get("socket_timeout") or 10)
        super().__init__(key_prefix=key_prefix, **settings)
        self.url = url
