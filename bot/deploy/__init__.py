"""The production profile: several Rasa and action servers behind nginx, on PostgreSQL and Redis.

- `prod`: starts it all on one machine (`make run-prod`), reusing `bot.runner`'s pieces.
- `nginx`: renders the proxy's configuration (one conversation -> one Rasa server) and runs nginx.
- `lock_store`: Rasa's Redis lock store configured from `REDIS_URL`.
- `loadgen`: simulated people over REST and socket.io (`make bench`, tests/production).
"""
