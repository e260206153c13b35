#!/usr/bin/env python3
"""Conduit's benchmark: throughput, latency, CPU per request and memory, on SQLite and PostgreSQL.

    python3 scripts/bench.py                      # both stores, the whole run (about 12 minutes)
    python3 scripts/bench.py --stores sqlite      # one store
    python3 scripts/bench.py --duration 5 --skip-memory --skip-large   # a quick look

What it does, for each store (docs/performance.md explains how to read the table):

1. builds the release binary and starts it on 127.0.0.1, on a fresh database: a SQLite file in a
   temporary directory, or a PostgreSQL container started with docker from $CONDUIT_TEST_PG_IMAGE
   (default postgres:15), or the database at --postgres-url;
2. seeds through the API: 50 users, 1,000 articles, 2,000 favourites and 2,000 comments; one
   reader follows half of the users;
3. drives each endpoint with wrk (2 threads, 32 connections, 15 s; POST /api/articles writes as 16
   authors in turn, with two tags shared by every article) and records requests per second,
   p50 and p99, and CPU per request: the server's CPU time plus the database's, divided by the
   requests served (SQLite runs inside the server, so its CPU is the server's);
4. with --skip-large absent, adds articles through SQL up to 100,000 and measures the list and the
   feed again, to show whether their cost stays flat;
5. with --sql, runs that file on the database once the server has migrated and before seeding,
   to measure what a trigger or constraint costs by dropping it (docs/performance.md);
6. with --skip-memory absent, runs five bursts of 1,000 registrations and logins, 32 at a time,
   and records the server's resident memory after each.

The results are printed as Markdown and written to target/bench/results.md.
Needs wrk (`apt-get install wrk`), docker for PostgreSQL, and only Python's standard library.
Send traffic only to 127.0.0.1: the script binds and connects nowhere else.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "conduit"
PASSWORD = "correct horse battery"
TICKS = os.sysconf("SC_CLK_TCK")

POST_ARTICLE_LUA = """
local counter = 0
local tokens = {}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  tokens = args
end

-- Each request is written by the next of the given authors, with a title no other has.
function request()
  counter = counter + 1
  local token = tokens[counter % #tokens + 1]
  local body = string.format(
    '{"article":{"title":"Bench %s %d %d","description":"Load","body":"Written by wrk.","tagList":["bench","load"]}}',
    token:sub(-12), thread_id, counter)
  return wrk.format("POST", "/api/articles",
    {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. token}, body)
end
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Token " + token)
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def register(base, name):
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    return call(base, "POST", "/api/users", {"user": user})["user"]


def login(base, email):
    user = {"email": email, "password": PASSWORD}
    return call(base, "POST", "/api/users/login", {"user": user})["user"]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def process_cpu_seconds(pid):
    """User plus system time of a process and of its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / TICKS


class Postgres:
    """A PostgreSQL container of our own, or a database given by URL (CPU then unmeasured)."""

    def __init__(self, url=None, statements=False):
        self.container = None
        self.statements = statements
        if url:
            self.url = url
            return
        image = os.environ.get("CONDUIT_TEST_PG_IMAGE", "postgres:15")
        port = free_port()
        self.container = subprocess.run(
            ["docker", "run", "-d", "--rm", "--label", "org.conduit.bench=postgres",
             "-p", f"127.0.0.1:{port}:5432", "-e", "POSTGRES_PASSWORD=bench",
             "-e", "POSTGRES_DB=conduit", image,
             *(["-c", "shared_preload_libraries=pg_stat_statements",
                "-c", "pg_stat_statements.track=all"] if statements else [])],
            check=True, capture_output=True, text=True).stdout.strip()
        self.url = f"postgres://postgres:bench@127.0.0.1:{port}/conduit"
        for _ in range(120):
            ready = subprocess.run(
                ["docker", "exec", self.container, "pg_isready", "-h", "127.0.0.1", "-U", "postgres"],
                capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError("PostgreSQL did not become ready in 60 s")

    def cpu_seconds(self):
        if not self.container:
            return None
        for path in (f"/sys/fs/cgroup/cpuacct/docker/{self.container}/cpuacct.usage",
                     f"/sys/fs/cgroup/system.slice/docker-{self.container}.scope/cpu.stat",
                     f"/sys/fs/cgroup/docker/{self.container}/cpu.stat"):
            if os.path.exists(path):
                text = Path(path).read_text()
                if path.endswith("cpuacct.usage"):
                    return int(text) / 1e9
                usage = re.search(r"usage_usec (\d+)", text)
                return int(usage.group(1)) / 1e6
        pids = subprocess.run(["docker", "top", self.container, "-eo", "pid"],
                              capture_output=True, text=True, check=True).stdout.split()[1:]
        return sum(process_cpu_seconds(int(pid)) for pid in pids if Path(f"/proc/{pid}").exists())

    def sql(self, script):
        if self.container:
            command = ["docker", "exec", "-i", self.container, "psql", "-q", "-v", "ON_ERROR_STOP=1",
                       "-U", "postgres", "-d", "conduit"]
        else:
            command = ["psql", "-q", "-v", "ON_ERROR_STOP=1", self.url]
        subprocess.run(command, input=script, text=True, check=True)

    def rss_mib(self):
        return None

    def query(self, sql):
        """Rows of `sql` as lists of text (tab-separated by psql)."""
        if self.container:
            command = ["docker", "exec", "-i", self.container, "psql", "-U", "postgres",
                       "-d", "conduit"]
        else:
            command = ["psql", self.url]
        output = subprocess.run([*command, "-At", "-F", "\t", "-c", sql], capture_output=True,
                                text=True, check=True).stdout
        return [line.split("\t") for line in output.splitlines() if line]

    def reset_statements(self):
        if self.statements:
            self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
                     "SELECT pg_stat_statements_reset();")

    def top_statements(self, requests, count=12):
        """The statements that took the most time since the reset, per request of the run."""
        if not self.statements:
            return None
        rows = self.query(
            "SELECT calls, total_exec_time, shared_blks_hit + shared_blks_read, toplevel, "
            "regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
            f"ORDER BY total_exec_time DESC LIMIT {count}")
        return [{"calls_per_request": int(calls) / max(requests, 1),
                 "ms_per_request": float(total) / max(requests, 1),
                 "blocks_per_call": int(blocks) / max(int(calls), 1),
                 "toplevel": toplevel == "t", "query": query[:160]}
                for calls, total, blocks, toplevel, query in rows]

    def stop(self):
        if self.container:
            subprocess.run(["docker", "rm", "-f", self.container], capture_output=True)


class Sqlite:
    def __init__(self, directory):
        self.path = Path(directory) / "bench.db"
        self.url = f"sqlite://{self.path}"

    def cpu_seconds(self):
        return 0.0  # inside the server's process

    def reset_statements(self):
        pass

    def top_statements(self, requests):
        return None

    def sql(self, script):
        with sqlite3.connect(self.path, timeout=30) as connection:
            connection.executescript(script)

    def stop(self):
        pass


class Server:
    def __init__(self, binary, database_url, scratch):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, APP_ENV="development", BIND_ADDR=f"127.0.0.1:{self.port}",
                   DATABASE_URL=database_url, RUST_LOG="warn",
                   JWT_SECRET="bench-secret-bench-secret-bench-secret",
                   LOGIN_MAX_FAILURES_PER_ADDRESS="1000000")
        self.log = open(Path(scratch) / f"server-{self.port}.log", "w")
        self.process = subprocess.Popen([str(Path(binary).resolve())], env=env, cwd=scratch,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/health/ready", timeout=1).read()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {self.log.name}")
                time.sleep(0.2)
        raise RuntimeError("the server did not become ready in 60 s")

    def cpu_seconds(self):
        return process_cpu_seconds(self.process.pid)

    def rss_mib(self):
        return rss_mib(self.process.pid)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def seed(base, run):
    """50 users, 1,000 articles, 2,000 favourites, 2,000 comments; the reader follows 25 users."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        users = list(pool.map(lambda n: register(base, f"b{run}u{n}"), range(50)))
        reader = users[0]
        for author in users[1:26]:
            call(base, "POST", f"/api/profiles/{author['username']}/follow", token=reader["token"])

        def write(n):
            author = users[n % 50]
            article = {"title": f"Article {n} of {run}", "description": f"About article {n}",
                       "body": f"# Article {n}\n\n" + "Some text. " * 50,
                       "tagList": [f"tag{n % 20}", "common"]}
            return call(base, "POST", "/api/articles", {"article": article},
                        author["token"])["article"]["slug"]

        slugs = list(pool.map(write, range(1000)))

        def react(n):
            slug, fan = slugs[n % 1000], users[(n // 1000 * 7 + n) % 50]
            call(base, "POST", f"/api/articles/{slug}/favorite", token=fan["token"])
            call(base, "POST", f"/api/articles/{slug}/comments",
                 {"comment": {"body": f"Comment {n}"}}, fan["token"])

        list(pool.map(react, range(2000)))
    return users, slugs


LARGE_POSTGRES = """
INSERT INTO articles (slug, author_id, title, description, body, tag_list, created_at, updated_at)
SELECT 'bulk-' || n, (SELECT min(id) FROM users) + n % 50, 'Bulk ' || n, 'd', 'b',
       '["bulk","tag' || (n % 20) || '"]',
       timestamptz '2020-01-01' + n * interval '1 minute', timestamptz '2020-01-01' + n * interval '1 minute'
FROM generate_series(1, {count}) AS n;
INSERT INTO article_tags (tag, article_id) SELECT 'bulk', id FROM articles WHERE slug LIKE 'bulk-%';
INSERT INTO article_tags (tag, article_id)
SELECT 'tag' || (id % 20), id FROM articles WHERE slug LIKE 'bulk-%' ON CONFLICT DO NOTHING;
ANALYZE;
"""

LARGE_SQLITE = """
WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < {count})
INSERT INTO articles (slug, author_id, title, description, body, tag_list, created_at, updated_at)
SELECT 'bulk-' || n, (SELECT min(id) FROM users) + n % 50, 'Bulk ' || n, 'd', 'b',
       '["bulk","tag' || (n % 20) || '"]',
       strftime('%Y-%m-%dT%H:%M:%fZ', '2020-01-01', '+' || n || ' minutes'),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2020-01-01', '+' || n || ' minutes')
FROM n;
INSERT INTO article_tags (tag, article_id) SELECT 'bulk', id FROM articles WHERE slug LIKE 'bulk-%';
INSERT OR IGNORE INTO article_tags (tag, article_id)
SELECT 'tag' || (id % 20), id FROM articles WHERE slug LIKE 'bulk-%';
ANALYZE;
"""


def parse_duration_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(server, database, path, seconds, token=None, script=None):
    command = ["wrk", "--threads", "2", "--connections", "32", "--duration", f"{seconds}s",
               "--latency", "--timeout", "10s"]
    if token and not script:
        command += ["--header", f"Authorization: Token {token}"]
    if script:
        command += ["--script", script]
    command.append(server.base + path)
    if script:
        command += ["--", *token.split()]
    database.reset_statements()
    cpu_before = (server.cpu_seconds(), database.cpu_seconds())
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_after = (server.cpu_seconds(), database.cpu_seconds())
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    server_cpu = cpu_after[0] - cpu_before[0]
    database_cpu = None if cpu_before[1] is None else cpu_after[1] - cpu_before[1]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": parse_duration_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99": parse_duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "errors": errors,
        "server_ms": 1000 * server_cpu / max(requests, 1),
        "database_ms": None if database_cpu is None else 1000 * database_cpu / max(requests, 1),
        "statements": database.top_statements(requests),
    }


def memory_bursts(server, run, users, bursts=5, size=1000, concurrency=32):
    """RSS after each burst of `size` requests: half registrations, half logins of seeded users."""
    after = []
    for burst in range(bursts):
        def one(n):
            if n % 2 == 0:
                register(server.base, f"m{run}b{burst}n{n}")
            else:
                login(server.base, users[n % len(users)]["email"])

        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(size)))
        after.append(server.rss_mib())
    return after


def bench_store(kind, args, scratch):
    database = (Postgres(args.postgres_url, args.statements) if kind == "postgres"
                else Sqlite(scratch))
    server = None
    try:
        server = Server(args.binary, database.url, scratch)
        run = uuid.uuid4().hex[:6]
        if args.sql:
            # After the server's migrations, before any data: a what-if for this run only.
            database.sql(args.sql.read_text())
        result = {"store": kind, "rss_idle": server.rss_mib(), "endpoints": {}}
        print(f"[{kind}] seeding through the API", file=sys.stderr)
        users, slugs = seed(server.base, run)
        reader = users[0]
        lua = Path(scratch) / "post-article.lua"
        lua.write_text(POST_ARTICLE_LUA)
        endpoints = [
            ("GET /api/articles?limit=20", "/api/articles?limit=20", None, None),
            ("GET /api/articles/feed", "/api/articles/feed", reader["token"], None),
            ("GET /api/articles/{slug}", f"/api/articles/{slugs[500]}", None, None),
            ("GET /api/tags", "/api/tags", None, None),
            ("GET /api/user", "/api/user", reader["token"], None),
            ("POST /api/articles", "/api/articles",
             " ".join(user["token"] for user in users[1:17]), str(lua)),
        ]
        for name, path, token, script in endpoints:
            if args.endpoints and not any(part in name for part in args.endpoints.split(",")):
                continue
            print(f"[{kind}] {name}", file=sys.stderr)
            result["endpoints"][name] = wrk(server, database, path, args.duration, token, script)
        result["rss_after_load"] = server.rss_mib()
        if not args.skip_large:
            print(f"[{kind}] adding articles through SQL up to 100,000", file=sys.stderr)
            existing = json.loads(urllib.request.urlopen(
                server.base + "/api/articles?limit=1").read())["articlesCount"]
            template = LARGE_POSTGRES if kind == "postgres" else LARGE_SQLITE
            database.sql(template.format(count=max(100_000 - existing, 0)))
            for name, path, token in [
                ("GET /api/articles?limit=20 (100,000 articles)", "/api/articles?limit=20", None),
                ("GET /api/articles/feed (100,000 articles)", "/api/articles/feed", reader["token"]),
            ]:
                print(f"[{kind}] {name}", file=sys.stderr)
                result["endpoints"][name] = wrk(server, database, path, args.duration, token)
        if not args.skip_memory:
            print(f"[{kind}] five bursts of 1,000 registrations and logins", file=sys.stderr)
            result["rss_before_bursts"] = server.rss_mib()
            result["rss_bursts"] = memory_bursts(server, run, users)
        return result
    finally:
        if server:
            server.stop()
        database.stop()


def markdown(results, args):
    lines = [f"wrk: 2 threads, 32 connections, {args.duration} s per endpoint; release build; "
             f"{os.cpu_count()} cores shared by server, database and wrk.", ""]
    lines += ["| store | endpoint | req/s | p50 ms | p99 ms | errors | CPU/req server ms "
              "| CPU/req database ms | CPU/req total ms |",
              "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        for name, row in result["endpoints"].items():
            database = row["database_ms"]
            total = row["server_ms"] + (database or 0)
            database_text = "n/a" if database is None else f"{database:.3f}"
            lines.append(f"| {result['store']} | {name} | {row['rps']:.0f} | {row['p50']:.2f} | "
                         f"{row['p99']:.2f} | {row['errors']} | {row['server_ms']:.3f} | "
                         f"{database_text} | {total:.3f} |")
    for result in results:
        for name, row in result["endpoints"].items():
            if not row.get("statements"):
                continue
            lines += ["", f"{result['store']}, {name}: the statements that took the most time "
                      "(pg_stat_statements, nested ones too)", "",
                      "| calls/req | ms/req | blocks/call | top level | statement |",
                      "|---|---|---|---|---|"]
            for statement in row["statements"]:
                query = statement["query"].replace("|", "\\|")
                lines.append(f"| {statement['calls_per_request']:.2f} | "
                             f"{statement['ms_per_request']:.3f} | "
                             f"{statement['blocks_per_call']:.1f} | "
                             f"{'yes' if statement['toplevel'] else 'no'} | `{query}` |")
    lines += ["", "| store | RSS idle MiB | after the endpoint runs | before the bursts "
              "| after each of five bursts of 1,000 registrations and logins |",
              "|---|---|---|---|---|"]
    for result in results:
        bursts = ", ".join(f"{value:.0f}" for value in result.get("rss_bursts", [])) or "skipped"
        before = result.get("rss_before_bursts")
        lines.append(f"| {result['store']} | {result['rss_idle']:.0f} | "
                     f"{result['rss_after_load']:.0f} | "
                     f"{'n/a' if before is None else f'{before:.0f}'} | {bursts} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--postgres-url", help="use this database instead of a container")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--endpoints", help="only the endpoints whose names contain one of "
                        "these comma-separated texts, e.g. 'POST,/api/user'")
    parser.add_argument("--statements", action="store_true",
                        help="list the statements that took the most time at each endpoint "
                        "(pg_stat_statements, in the container this script starts)")
    parser.add_argument("--sql", type=Path,
                        help="a file of SQL to run once the server has migrated, before seeding: "
                        "a what-if, such as dropping a trigger to measure what it costs")
    parser.add_argument("--binary", type=Path, default=BINARY,
                        help="run this build instead of building target/release/conduit")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    if args.binary == BINARY:
        subprocess.run(["cargo", "build", "--release", "--locked", "--package", "conduit-server"],
                       cwd=ROOT, check=True)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind in args.stores.split(","):
            results.append(bench_store(kind.strip(), args, scratch))
    table = markdown(results, args)
    out = ROOT / "target" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(table)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(table)


if __name__ == "__main__":
    main()
