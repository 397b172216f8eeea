"""Task handlers for the example state machines in this folder.

Load them with ``--handlers definitions/handlers.py``; each ``@task`` name is also reachable as
``arn:aws:lambda:REGION:ACCOUNT:function:NAME`` and through ``arn:aws:states:::lambda:invoke``.
"""
from __future__ import annotations

import hashlib
import sys

from engine import task

PRICES = {"apple": 0.5, "bread": 2.25, "coffee": 7.0, "tea": 4.5}


class OutOfStock(Exception):
    """An item cannot be reserved."""


class PaymentDeclined(Exception):
    """The card was declined: not worth retrying."""


@task("reserve-stock")
def reserve_stock(event, context):
    missing = [item["sku"] for item in event["items"] if item["sku"] not in PRICES]
    if missing:
        raise OutOfStock(f"not in stock: {', '.join(missing)}")
    return {"reservation": _digest(event["orderId"], "reservation")}


@task("charge-card")
def charge_card(event, context):
    if event["amount"] > event.get("cardLimit", 500):
        raise PaymentDeclined(f"amount {event['amount']} exceeds the card limit")
    # the idempotency key is stable across re-deliveries of this attempt: a payment provider
    # would receive it so a retried call never charges twice
    return {"chargeId": _digest(event["orderId"], "charge"), "amount": event["amount"]}


@task("price-line")
def price_line(event, context):
    price = PRICES.get(event["sku"])
    if price is None:
        raise KeyError(f"unknown sku {event['sku']!r}")
    return {"sku": event["sku"], "quantity": event["quantity"], "total": round(price * event["quantity"], 2)}


@task("notify")
def notify(event, context):
    return {"channel": event["channel"], "to": event["to"], "sent": True}


@task("send-reminder")
def send_reminder(event, context):
    return {"reminded": event["email"], "subject": f"Reminder: {event['subject']}"}


@task("route-ticket")
def route_ticket(event, context):
    return {"queue": event["queue"], "ticket": event["ticket"]["id"]}


@task("hold-budget")
def hold_budget(event, context):
    return {"holdId": _digest(event["expense"]["id"], "hold"), "amount": event["expense"]["amount"]}


@task("request-approval")
def request_approval(event, context):
    # A real system would e-mail a link or post to a chat; the person's answer comes back
    # through SendTaskSuccess / SendTaskFailure with this token (see `stepstone tokens`).
    expense = event["expense"]
    print(f"approval needed from {event['approver']} for {expense['id']} ({expense['amount']}): "
          f"stepstone send-task-success {event['taskToken']} --output '{{\"approvedBy\": \"...\"}}'",
          file=sys.stderr)
    return {"notified": event["approver"]}


@task("book-expense")
def book_expense(event, context):
    return {"booked": event["expense"]["id"], "holdId": event["holdId"], "approvedBy": event["approvedBy"]}


@task("release-hold")
def release_hold(event, context):
    return {"released": event["holdId"]}


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]
