"""Locust users for the load test (run by bench/load/run.py, headless, loopback only).

Anonymous visitors browse personalized pages (some arriving from the newsletter), members log
in and browse, headless frontends read pages from the API, and a frontend posts behaviour events
in batches. Every accepted event's idempotency key is counted, so the runner can check that each
one reached PostgreSQL.
"""

from __future__ import annotations

import os
import random
import uuid

from locust import HttpUser, between, events, task

PAGES = ["/", "/dogs/", "/cats/", "/dogs/choosing-dog-food/", "/cats/indoor-cat-enrichment/"]
MEMBERS = [f"loadmember{i}@example.com" for i in range(50)]
PASSWORD = "load-test-password-1"
ACCEPTED_FILE = os.environ.get("LOAD_ACCEPTED_FILE", "/tmp/load-accepted-events.txt")
accepted_events = 0


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


@events.test_stop.add_listener
def remember_accepted(**kwargs):
    with open(ACCEPTED_FILE, "w") as handle:
        handle.write(str(accepted_events))
