#!/usr/bin/env python3
"""Seeds a running Conduit with articles over its HTTP API, for benchmarks and demos.

    python3 scripts/seed.py http://127.0.0.1:8080 1000

Registers ten authors and one reader; the authors write ARTICLES articles between them, each
with two tags; the reader follows half of the authors and favourites every seventh article.
Only the standard library is used.
"""

import json
import sys
import urllib.request
import uuid


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Token " + token)
    with urllib.request.urlopen(request) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def register(base, name):
    username = f"{name}{uuid.uuid4().hex[:8]}"
    user = {"username": username, "email": f"{username}@example.com", "password": "correct horse battery"}
    return call(base, "POST", "/api/users", {"user": user})["user"]


def main():
    base = sys.argv[1].rstrip("/")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    authors = [register(base, f"author{n}") for n in range(10)]
    reader = register(base, "reader")
    for author in authors[:5]:
        call(base, "POST", f"/api/profiles/{author['username']}/follow", token=reader["token"])
    run = uuid.uuid4().hex[:6]
    for n in range(count):
        author = authors[n % len(authors)]
        article = {
            "title": f"Article {n} of run {run}",
            "description": f"What article {n} is about",
            "body": f"# Article {n}\n\n" + "Some text. " * 50,
            "tagList": [f"tag{n % 20}", "common"],
        }
        slug = call(base, "POST", "/api/articles", {"article": article}, author["token"])["article"]["slug"]
        if n % 7 == 0:
            call(base, "POST", f"/api/articles/{slug}/favorite", token=reader["token"])
    print(f"seeded {count} articles by {len(authors)} authors and one reader")


if __name__ == "__main__":
    main()
