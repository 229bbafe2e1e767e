"""Locust users for the load test (run by bench/load/run.py, headless, loopback only).

Anonymous visitors browse personalized pages (some arriving from the newsletter), members log
in and browse, headless frontends read pages from the API, and a frontend posts behaviour events
in batches. Every accepted event's idempotency key is counted, so the runner can check that each
one reached PostgreSQL. Every page response (site pages and the API's page reads) is tallied by
its `X-Render-Cache` header — hit, miss or none (not served through the render cache) — over
the whole run and after the warm-up (`LOAD_WARM_UP` seconds, default 15: the users have spawned
and every page's keys have been rendered once), for the runner's render-cache hit rate.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter

from locust import HttpUser, between, events, task

PAGES = ["/", "/dogs/", "/cats/", "/dogs/choosing-dog-food/", "/cats/indoor-cat-enrichment/"]
MEMBERS = [f"loadmember{i}@example.com" for i in range(50)]
PASSWORD = "load-test-password-1"
ACCEPTED_FILE = os.environ.get("LOAD_ACCEPTED_FILE", "/tmp/load-accepted-events.txt")
CACHE_FILE = os.environ.get("LOAD_CACHE_FILE", "/tmp/load-render-cache.json")
WARM_UP = float(os.environ.get("LOAD_WARM_UP", "15"))
PAGE_NAMES = ("site: personalized page", "site: member page", "api: page")
accepted_events = 0
started = time.monotonic()
render_cache = {"all": Counter(), "after warm-up": Counter()}  # "name|state" → responses


class AnonymousVisitor(HttpUser):
    weight = 4
    wait_time = between(0.05, 0.3)

    @task(5)
    def browse(self):
        self.client.get(random.choice(PAGES), name="site: personalized page")

    @task(1)
    def arrive_from_newsletter(self):
        self.client.get("/?utm_source=newsletter", name="site: personalized page")


class Member(HttpUser):
    weight = 2
    wait_time = between(0.05, 0.3)

    def on_start(self):
        self.client.get("/account/login/", name="site: log in")
        token = self.client.cookies.get("csrftoken", "")
        self.client.post(
            "/account/login/",
            {
                "username": random.choice(MEMBERS),
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/account/login/"},
            name="site: log in",
        )

    @task
    def browse(self):
        self.client.get(random.choice(PAGES), name="site: member page")


class HeadlessFrontend(HttpUser):
    weight = 2
    wait_time = between(0.05, 0.3)

    def on_start(self):
        response = self.client.post("/api/v1/visitors/", name="api: visitor token")
        self.token = response.json().get("visitor_token", "") if response.ok else ""

    @task
    def read_page(self):
        self.client.get(
            "/api/v1/pages/find/",
            params={"path": random.choice(PAGES)},
            headers={"X-Visitor-Token": self.token},
            name="api: page",
        )


class EventSender(HttpUser):
    weight = 2
    wait_time = between(0.05, 0.2)

    def on_start(self):
        response = self.client.post("/api/v1/visitors/", name="api: visitor token")
        self.token = response.json().get("visitor_token", "") if response.ok else ""

    @task
    def post_events(self):
        global accepted_events
        batch = [
            {
                "type": random.choice(["add_to_cart", "checkout", "goal"]),
                "name": "load-test",
                "properties": {"sku": f"sku-{random.randint(1, 40)}", "price": 1200},
                "idempotency_key": uuid.uuid4().hex,
            }
            for _ in range(random.randint(1, 10))
        ]
        response = self.client.post(
            "/api/v1/events/",
            json=batch,
            headers={"X-Visitor-Token": self.token},
            name="api: events",
        )
        if response.status_code == 202:
            accepted_events += len(batch)


@events.test_start.add_listener
def mark_start(**kwargs):
    global started
    started = time.monotonic()


@events.request.add_listener
def tally_render_cache(name, response, exception, **kwargs):
    """A page response's X-Render-Cache: "hit", "miss", or "none" (served without the cache,
    e.g. a campaign landing that sets a cookie)."""
    if name not in PAGE_NAMES or exception is not None or response is None:
        return
    state = (response.headers.get("X-Render-Cache") or "none").lower()
    render_cache["all"][f"{name}|{state}"] += 1
    if time.monotonic() - started >= WARM_UP:
        render_cache["after warm-up"][f"{name}|{state}"] += 1


@events.test_stop.add_listener
def remember_accepted(**kwargs):
    with open(ACCEPTED_FILE, "w") as handle:
        handle.write(str(accepted_events))
    with open(CACHE_FILE, "w") as handle:
        json.dump({**render_cache, "warm_up": WARM_UP}, handle)
