"""The service worker's push handler in Chromium: a push delivered through the DevTools
protocol shows a notification and, for an alert, posts the acknowledgement."""

from __future__ import annotations

import json

from tests.browser.conftest import sign_in
from tests.push_service import FakeBrowser
from web.extensions import db
from web.models import Employee, OutboxMessage
from web.push.services import PushMessage, enqueue, save_subscription, validate_subscription


def test_push_shows_notification_and_acknowledges_alert(page, app, data, live_server):
    app.config["PUSH_ALLOWED_HOSTS"] = ["push.invalid"]  # never sent to: CDP delivers the push
    company = data.company("Push GmbH")
    employee_id = data.employee(company, email="push@example.com")
    with app.app_context():
        user = db.session.get(Employee, employee_id).user
        save_subscription(
            user, validate_subscription(FakeBrowser("https://push.invalid/x").subscription_json())
        )
        [message] = enqueue(
            user.id,
            PushMessage(
                "alert",
                "An authority is asking",
                "Anna, in Lyon",
                live_server.url + "/wallet/",
                urgency="high",
            ),
        )
        db.session.commit()
        payload = {"title": message.title, "body": message.body, "url": message.url}
        message_id = message.id

    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, "push@example.com")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")

    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    scope = live_server.url + "/"
    for _ in range(50):  # the enable call reports the registrations asynchronously
        if any(r["scopeURL"] == scope for r in registrations):
            break
        page.wait_for_timeout(100)
    registration_id = next(r["registrationId"] for r in registrations if r["scopeURL"] == scope)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration_id, "data": json.dumps(payload)},
    )

    titles = []
    for _ in range(50):
        titles = page.evaluate("""async () => {
            const reg = await navigator.serviceWorker.ready;
            return (await reg.getNotifications()).map((n) => [n.title, n.body, n.data.url]);
        }""")
        if titles:
            break
        page.wait_for_timeout(100)
    assert titles == [["An authority is asking", "Anna, in Lyon", payload["url"]]]
    for _ in range(50):
        with app.app_context():
            shown = db.session.get(OutboxMessage, message_id).shown_at
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown is not None, "the service worker did not acknowledge the alert"
    assert page.console_errors == []
