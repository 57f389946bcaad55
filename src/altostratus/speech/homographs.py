"""English homographs whose reading SSML's <w role="..."> chooses, with their pronunciations in IPA.

Polly's roles: amazon:VB (verb, present), amazon:VBD (verb, past), amazon:NN (noun), amazon:DT (determiner),
amazon:IN (preposition), amazon:JJ (adjective), amazon:SENSE_1 (the word's less common sense). A word not here
reads the same in every role, so the role changes nothing for it.
"""

from __future__ import annotations

ROLES = frozenset({"amazon:VB", "amazon:VBD", "amazon:NN", "amazon:DT", "amazon:IN", "amazon:JJ", "amazon:SENSE_1"})

# word -> role -> IPA (espeak's symbols, which the engines read).
HOMOGRAPHS: dict[str, dict[str, str]] = {
    "read": {"amazon:VB": "ɹˈiːd", "amazon:VBD": "ɹˈɛd"},
    "live": {"amazon:VB": "lˈɪv", "amazon:JJ": "lˈaɪv"},
    "lead": {"amazon:VB": "lˈiːd", "amazon:NN": "lˈɛd", "amazon:SENSE_1": "lˈɛd"},
    "wind": {"amazon:VB": "wˈaɪnd", "amazon:NN": "wˈɪnd"},
    "tear": {"amazon:VB": "tˈɛɹ", "amazon:NN": "tˈɪɹ", "amazon:SENSE_1": "tˈɪɹ"},
    "close": {"amazon:VB": "klˈoʊz", "amazon:JJ": "klˈoʊs"},
    "bass": {"amazon:NN": "bˈeɪs", "amazon:SENSE_1": "bˈæs"},
    "bow": {"amazon:VB": "bˈaʊ", "amazon:NN": "bˈoʊ", "amazon:SENSE_1": "bˈoʊ"},
    "wound": {"amazon:VBD": "wˈaʊnd", "amazon:NN": "wˈuːnd"},
    "minute": {"amazon:NN": "mˈɪnɪt", "amazon:JJ": "maɪnˈuːt"},
    "present": {"amazon:VB": "pɹɪzˈɛnt", "amazon:NN": "pɹˈɛzənt", "amazon:JJ": "pɹˈɛzənt"},
    "record": {"amazon:VB": "ɹɪkˈɔːɹd", "amazon:NN": "ɹˈɛkɚd"},
    "object": {"amazon:VB": "əbdʒˈɛkt", "amazon:NN": "ˈɑːbdʒɛkt"},
    "refuse": {"amazon:VB": "ɹɪfjˈuːz", "amazon:NN": "ɹˈɛfjuːs"},
    "produce": {"amazon:VB": "pɹədˈuːs", "amazon:NN": "pɹˈoʊduːs"},
    "permit": {"amazon:VB": "pɚmˈɪt", "amazon:NN": "pˈɜːmɪt"},
    "project": {"amazon:VB": "pɹədʒˈɛkt", "amazon:NN": "pɹˈɑːdʒɛkt"},
    "content": {"amazon:NN": "kˈɑːntɛnt", "amazon:JJ": "kəntˈɛnt"},
    "desert": {"amazon:VB": "dɪzˈɜːt", "amazon:NN": "dˈɛzɚt"},
    "use": {"amazon:VB": "jˈuːz", "amazon:NN": "jˈuːs"},
}


def pronunciation(word: str, role: str) -> str | None:
    """The IPA for `word` read in `role`, or None when the role does not change how it reads."""
    return HOMOGRAPHS.get(word.lower(), {}).get(role)
