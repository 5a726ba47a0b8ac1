"""A tiny notes service: notes in PostgreSQL, reads cached in Redis (it serves on without it).

GET /health      200 when the database answers, 503 otherwise (the cache is reported, not required)
GET /metrics     Prometheus text: notes_database_up, notes_cache_up (what the alert rules read)
POST /notes      {"body": "..."} -> 201 {"id": N}
GET /notes       every note, newest first
GET /notes/{id}  one note, from the cache when it has it
"""

import asyncio
import contextlib
import json
import os

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

DATABASE_URL = os.environ["DATABASE_URL"]
REDIS_URL = os.environ.get("REDIS_URL", "redis://cache:6379/0")
SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
DB_TIMEOUT_S = 1.0
CACHE_TIMEOUT_S = 0.3

state: dict[str, asyncpg.Pool | None] = {"pool": None}
cache = aioredis.from_url(
    REDIS_URL, socket_timeout=CACHE_TIMEOUT_S, socket_connect_timeout=CACHE_TIMEOUT_S
)


async def pool() -> asyncpg.Pool:
    """The connection pool, made (and the schema created, idempotent) on first use."""
    if state["pool"] is None:
        made = await asyncpg.create_pool(
            DATABASE_URL, min_size=1, max_size=5, timeout=DB_TIMEOUT_S, command_timeout=2.0
        )
        await made.execute(SCHEMA)
        state["pool"] = made
    return state["pool"]


async def forget_pool() -> None:
    """After a database error: drop the pool, so the next request connects afresh."""
    old, state["pool"] = state["pool"], None
    if old is not None:
        old.terminate()


async def query(sql: str, *args: object) -> list[asyncpg.Record]:
    try:
        p = await asyncio.wait_for(pool(), DB_TIMEOUT_S * 2)
        return await asyncio.wait_for(p.fetch(sql, *args), DB_TIMEOUT_S * 2)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        await forget_pool()
        raise web.HTTPServiceUnavailable(text="database unreachable") from None


async def cached(key: str) -> str | None:
    try:
        value = await cache.get(key)
    except (TimeoutError, OSError, aioredis.RedisError):
        return None  # the cache is an optimisation: serve from the database
    return value.decode() if value is not None else None


async def remember(key: str, value: str) -> None:
    with contextlib.suppress(OSError, aioredis.RedisError, asyncio.TimeoutError):
        await cache.set(key, value, ex=60)


async def dependencies() -> tuple[bool, bool]:
    """Whether the database and the cache answer now."""
    cache_ok = True
    try:
        await cache.ping()
    except (TimeoutError, OSError, aioredis.RedisError):
        cache_ok = False
    try:
        await query("SELECT 1")
    except web.HTTPServiceUnavailable:
        return False, cache_ok
    return True, cache_ok


async def health(_: web.Request) -> web.Response:
    db_ok, cache_ok = await dependencies()
    return web.json_response({"db": db_ok, "cache": cache_ok}, status=200 if db_ok else 503)


async def metrics(_: web.Request) -> web.Response:
    try:  # an answer inside Prometheus' scrape timeout, or the API itself looks down
        db_ok, cache_ok = await asyncio.wait_for(dependencies(), 0.8)
    except TimeoutError:
        db_ok, cache_ok = False, False
    text = (
        "# HELP notes_database_up 1 when the API reaches its database\n"
        "# TYPE notes_database_up gauge\n"
        f"notes_database_up {int(db_ok)}\n"
        "# HELP notes_cache_up 1 when the API reaches its cache\n"
        "# TYPE notes_cache_up gauge\n"
        f"notes_cache_up {int(cache_ok)}\n"
    )
    return web.Response(text=text, content_type="text/plain")


async def create(request: web.Request) -> web.Response:
    try:
        body = (await request.json())["body"]
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text='expected {"body": "..."}') from None
    if not isinstance(body, str) or not body.strip():
        raise web.HTTPBadRequest(text="a note needs a body")
    rows = await query("INSERT INTO notes (body) VALUES ($1) RETURNING id", body)
    return web.json_response({"id": rows[0]["id"]}, status=201)


async def list_notes(_: web.Request) -> web.Response:
    rows = await query("SELECT id, body FROM notes ORDER BY id DESC LIMIT 100")
    return web.json_response([dict(r) for r in rows])


async def one(request: web.Request) -> web.Response:
    try:
        note_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    key = f"note:{note_id}"
    hit = await cached(key)
    if hit is not None:
        return web.json_response(json.loads(hit), headers={"X-Cache": "hit"})
    rows = await query("SELECT id, body FROM notes WHERE id = $1", note_id)
    if not rows:
        raise web.HTTPNotFound()
    note = json.dumps(dict(rows[0]))
    await remember(key, note)
    return web.json_response(json.loads(note), headers={"X-Cache": "miss"})


async def connect_at_start(app: web.Application) -> None:
    """Create the schema once the database is up (it may start after the api)."""

    async def retry() -> None:
        while True:
            try:
                await query("SELECT 1")
                return
            except web.HTTPServiceUnavailable:
                await asyncio.sleep(0.5)

    app["schema"] = asyncio.get_running_loop().create_task(retry())


app = web.Application()
app.add_routes(
    [
        web.get("/health", health),
        web.get("/metrics", metrics),
        web.post("/notes", create),
        web.get("/notes", list_notes),
        web.get("/notes/{id}", one),
    ]
)
app.on_startup.append(connect_at_start)

if __name__ == "__main__":
    web.run_app(app, host="0.0.0.0", port=8080, print=None, access_log=None)
