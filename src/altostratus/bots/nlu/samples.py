"""Values of the built-in slot types to fill sample utterances' {slot} placeholders with at build time.

The slot tagger learns where a slot's value sits from utterances filled with plausible values; the values are
then read by bots/slot_values, so these only need to look like what people say, not to cover every value.
"""

from __future__ import annotations

BUILTIN_SAMPLES: dict[str, tuple[str, ...]] = {
    "AMAZON.Date": (
        "tomorrow",
        "today",
        "next friday",
        "monday",
        "december 5th",
        "the 12th",
        "this weekend",
        "next week",
        "march 3",
        "june 21st 2027",
        "in two days",
        "the day after tomorrow",
        "2027-01-15",
        "saturday",
    ),
    "AMAZON.Time": ("3 pm", "noon", "10:30", "7 in the morning", "midnight", "half past six", "8 am", "17:45"),
    "AMAZON.Number": ("2", "three", "4", "ten", "1", "twelve", "5", "twenty", "7", "one"),
    "AMAZON.Duration": ("two hours", "3 days", "a week", "45 minutes", "one month", "ten days"),
    "AMAZON.AlphaNumeric": ("A123", "XK42B", "7QW9", "ABC12345", "Z9"),
    "AMAZON.City": (
        "paris",
        "new york",
        "london",
        "seattle",
        "chicago",
        "tokyo",
        "berlin",
        "san francisco",
        "boston",
        "madrid",
        "los angeles",
        "rome",
        "sydney",
        "toronto",
        "denver",
        "miami",
        "amsterdam",
        "dublin",
    ),
    "AMAZON.Country": ("france", "germany", "japan", "the united states", "canada", "spain", "italy", "brazil"),
    "AMAZON.State": ("california", "texas", "new york", "washington", "florida", "ohio"),
    "AMAZON.FirstName": ("john", "maria", "ahmed", "li", "sarah", "david", "anna", "carlos"),
    "AMAZON.LastName": ("smith", "garcia", "khan", "wang", "johnson", "müller", "rossi", "brown"),
    "AMAZON.Confirmation": ("yes", "no", "sure", "nope"),
    "AMAZON.EmailAddress": ("john@example.com", "maria.garcia@mail.org", "li at example dot com"),
    "AMAZON.PhoneNumber": ("555 123 4567", "+1 206 555 0100", "020 7946 0958"),
    "AMAZON.FreeFormInput": ("it was great", "the room was too cold", "nothing else"),
    "AMAZON.StreetName": ("main street", "elm avenue", "baker street"),
    "AMAZON.UKPostalCode": ("SW1A 1AA", "EC1A 1BB", "W1A 0AX"),
}
