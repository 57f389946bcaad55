"""BookTrip's and BookFlight's code hook, and the web front end's route to the bookings.

As a Lex V2 code hook (set `code_hook: bookings` in the bot's YAML) it validates what the user said on each
dialog turn and, at fulfilment, writes the booking to the lake as JSON: s3://$BOOKINGS_BUCKET/<Intent>/<id>.json.
As the function behind `GET /api/bookings` (an API Gateway HTTP API route) it lists those bookings.
"""

import datetime as dt
import json
import os
import uuid

import boto3

s3 = boto3.client("s3")
BUCKET = os.environ.get("BOOKINGS_BUCKET", "bookings")
# The checks each intent's slots must pass: slot -> (test, what the bot says when it fails).
RULES = {
    "Nights": (lambda v: 1 <= int(float(v)) <= 30, "You can stay 1 to 30 nights. How many nights?"),
    "DriverAge": (lambda v: 18 <= int(float(v)) <= 99, "Drivers must be 18 to 99. How old is the driver?"),
    "Passengers": (lambda v: 1 <= int(float(v)) <= 9, "I can book 1 to 9 passengers. How many are flying?"),
    "CheckInDate": (lambda v: v >= dt.date.today().isoformat(), "That day has passed. What day do you check in?"),
    "PickUpDate": (lambda v: v >= dt.date.today().isoformat(), "That day has passed. What day do you pick up?"),
    "DepartureDate": (lambda v: v >= dt.date.today().isoformat(), "That day has passed. What day do you leave?"),
}
# Dates that must come after another: (the first, the later one, what the bot says when they do not).
ORDER = [
    ("PickUpDate", "ReturnDate", "The car must go back after you pick it up. What day do you return it?"),
    ("DepartureDate", "ReturnDate", "The return must be after the departure. When do you come back?"),
]


def handler(event, context):
    if "sessionState" in event:
        return lex_hook(event)
    return list_bookings()


def values(intent):
    return {name: slot["value"]["interpretedValue"] for name, slot in (intent.get("slots") or {}).items() if slot}


def lex_hook(event):
    intent = event["sessionState"]["intent"]
    found = values(intent)
    if event["invocationSource"] == "DialogCodeHook":
        for name, (test, message) in RULES.items():
            if name in found and not _passes(test, found[name]):
                intent["slots"][name] = None
                return _answer(intent, {"type": "ElicitSlot", "slotToElicit": name}, message)
        for start, back, message in ORDER:
            if found.get(back) and found.get(start) and found[back] <= found[start]:
                intent["slots"][back] = None
                return _answer(intent, {"type": "ElicitSlot", "slotToElicit": back}, message)
        if found.get("Origin") and found.get("Origin") == found.get("Destination"):
            intent["slots"]["Destination"] = None
            return _answer(
                intent,
                {"type": "ElicitSlot", "slotToElicit": "Destination"},
                "You are already there. Where are you flying to?",
            )
        return {"sessionState": {"dialogAction": {"type": "Delegate"}, "intent": intent}}
    booking = {
        "id": uuid.uuid4().hex[:12],
        "intent": intent["name"],
        "slots": found,
        "session": event["sessionId"],
        "bookedAt": dt.datetime.now(dt.UTC).isoformat(),
    }
    s3.put_object(Bucket=BUCKET, Key=f"{intent['name']}/{booking['id']}.json", Body=json.dumps(booking).encode())
    intent["state"] = "Fulfilled"
    return _answer(intent, {"type": "Close"}, f"Booked: your reference is {booking['id']}.")


def list_bookings():
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    found = [json.loads(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()) for o in listed]
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(found)}


def _passes(test, value):
    try:
        return test(value)
    except ValueError:
        return False


def _answer(intent, action, message):
    return {
        "sessionState": {"dialogAction": action, "intent": intent},
        "messages": [{"contentType": "PlainText", "content": message}],
    }
