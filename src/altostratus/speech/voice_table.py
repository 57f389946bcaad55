"""The voices served here, and the Polly voice names that answer through them (data only; voices.py builds it).

Our own voices:
- Joe: Piper's en_US-joe-medium (neural, male, US English), the default and the only neural voice bundled.
- Slt: festival's HTS voice cmu_us_slt_arctic (standard, female, US English).
- espeak-<language>: espeak-ng (standard) in each language below, male; for breadth and as the last resort.

Polly's names answer as aliases: an English alias answers `neural` with Joe (whatever its gender: Joe is the
one neural voice) and `standard` with Slt for US women, espeak-ng for the others (its female variant for
women); aliases in other languages answer `standard` only, with espeak-ng in their language.
"""

from __future__ import annotations

# Polly language code -> (English name, espeak-ng voice).
LANGUAGES: dict[str, tuple[str, str]] = {
    "en-US": ("US English", "en-us"),
    "en-GB": ("British English", "en"),
    "en-GB-WLS": ("Welsh English", "en"),
    "en-AU": ("Australian English", "en"),
    "en-IN": ("Indian English", "en"),
    "en-NZ": ("New Zealand English", "en"),
    "en-ZA": ("South African English", "en"),
    "en-IE": ("Irish English", "en"),
    "arb": ("Arabic", "ar"),
    "ca-ES": ("Catalan", "ca"),
    "cmn-CN": ("Chinese Mandarin", "cmn"),
    "yue-CN": ("Chinese Cantonese", "yue"),
    "cs-CZ": ("Czech", "cs"),
    "cy-GB": ("Welsh", "cy"),
    "da-DK": ("Danish", "da"),
    "de-DE": ("German", "de"),
    "es-ES": ("Castilian Spanish", "es"),
    "es-MX": ("Mexican Spanish", "es-419"),
    "es-US": ("US Spanish", "es-419"),
    "fi-FI": ("Finnish", "fi"),
    "fr-FR": ("French", "fr"),
    "fr-BE": ("Belgian French", "fr-be"),
    "fr-CA": ("Canadian French", "fr"),
    "hi-IN": ("Hindi", "hi"),
    "is-IS": ("Icelandic", "is"),
    "it-IT": ("Italian", "it"),
    "ja-JP": ("Japanese", "ja"),
    "ko-KR": ("Korean", "ko"),
    "nb-NO": ("Norwegian", "nb"),
    "nl-NL": ("Dutch", "nl"),
    "pl-PL": ("Polish", "pl"),
    "pt-BR": ("Brazilian Portuguese", "pt-br"),
    "pt-PT": ("Portuguese", "pt"),
    "ro-RO": ("Romanian", "ro"),
    "ru-RU": ("Russian", "ru"),
    "sv-SE": ("Swedish", "sv"),
    "tr-TR": ("Turkish", "tr"),
}
# Languages that get a voice of their own (espeak-<code>); the others are reached through aliases only.
ESPEAK_VOICES = (
    "en-US", "en-GB", "arb", "ca-ES", "cmn-CN", "yue-CN", "cs-CZ", "cy-GB", "da-DK", "de-DE", "es-ES", "es-MX",
    "fi-FI", "fr-FR", "fr-BE", "hi-IN", "is-IS", "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-NL", "pl-PL", "pt-BR",
    "pt-PT", "ro-RO", "ru-RU", "sv-SE", "tr-TR",
)  # fmt: skip

# Polly voice name -> (gender, language code).
ALIASES: dict[str, tuple[str, str]] = {
    "Joanna": ("Female", "en-US"), "Salli": ("Female", "en-US"), "Kendra": ("Female", "en-US"),
    "Kimberly": ("Female", "en-US"), "Ivy": ("Female", "en-US"), "Ruth": ("Female", "en-US"),
    "Danielle": ("Female", "en-US"), "Matthew": ("Male", "en-US"), "Joey": ("Male", "en-US"),
    "Justin": ("Male", "en-US"), "Kevin": ("Male", "en-US"), "Stephen": ("Male", "en-US"),
    "Gregory": ("Male", "en-US"), "Patrick": ("Male", "en-US"),
    "Amy": ("Female", "en-GB"), "Emma": ("Female", "en-GB"), "Brian": ("Male", "en-GB"), "Arthur": ("Male", "en-GB"),
    "Geraint": ("Male", "en-GB-WLS"), "Nicole": ("Female", "en-AU"), "Olivia": ("Female", "en-AU"),
    "Russell": ("Male", "en-AU"), "Raveena": ("Female", "en-IN"), "Aditi": ("Female", "en-IN"),
    "Kajal": ("Female", "en-IN"), "Aria": ("Female", "en-NZ"), "Ayanda": ("Female", "en-ZA"),
    "Niamh": ("Female", "en-IE"),
    "Hans": ("Male", "de-DE"), "Marlene": ("Female", "de-DE"), "Vicki": ("Female", "de-DE"),
    "Daniel": ("Male", "de-DE"), "Celine": ("Female", "fr-FR"), "Lea": ("Female", "fr-FR"),
    "Mathieu": ("Male", "fr-FR"), "Remi": ("Male", "fr-FR"), "Chantal": ("Female", "fr-CA"),
    "Gabrielle": ("Female", "fr-CA"), "Conchita": ("Female", "es-ES"), "Lucia": ("Female", "es-ES"),
    "Enrique": ("Male", "es-ES"), "Sergio": ("Male", "es-ES"), "Mia": ("Female", "es-MX"),
    "Andres": ("Male", "es-MX"), "Penelope": ("Female", "es-US"), "Lupe": ("Female", "es-US"),
    "Miguel": ("Male", "es-US"), "Carla": ("Female", "it-IT"), "Bianca": ("Female", "it-IT"),
    "Giorgio": ("Male", "it-IT"), "Adriano": ("Male", "it-IT"), "Camila": ("Female", "pt-BR"),
    "Vitoria": ("Female", "pt-BR"), "Ricardo": ("Male", "pt-BR"), "Thiago": ("Male", "pt-BR"),
    "Ines": ("Female", "pt-PT"), "Cristiano": ("Male", "pt-PT"), "Lotte": ("Female", "nl-NL"),
    "Laura": ("Female", "nl-NL"), "Ruben": ("Male", "nl-NL"), "Astrid": ("Female", "sv-SE"),
    "Elin": ("Female", "sv-SE"), "Naja": ("Female", "da-DK"), "Sofie": ("Female", "da-DK"),
    "Mads": ("Male", "da-DK"), "Liv": ("Female", "nb-NO"), "Ida": ("Female", "nb-NO"),
    "Suvi": ("Female", "fi-FI"), "Ewa": ("Female", "pl-PL"), "Maja": ("Female", "pl-PL"),
    "Ola": ("Female", "pl-PL"), "Jacek": ("Male", "pl-PL"), "Jan": ("Male", "pl-PL"),
    "Tatyana": ("Female", "ru-RU"), "Maxim": ("Male", "ru-RU"), "Filiz": ("Female", "tr-TR"),
    "Burcu": ("Female", "tr-TR"), "Carmen": ("Female", "ro-RO"), "Dora": ("Female", "is-IS"),
    "Karl": ("Male", "is-IS"), "Gwyneth": ("Female", "cy-GB"), "Zeina": ("Female", "arb"),
    "Zhiyu": ("Female", "cmn-CN"), "Hiujin": ("Female", "yue-CN"), "Mizuki": ("Female", "ja-JP"),
    "Takumi": ("Male", "ja-JP"), "Seoyeon": ("Female", "ko-KR"), "Arlet": ("Female", "ca-ES"),
    "Jitka": ("Female", "cs-CZ"),
}  # fmt: skip
# Aditi speaks Hindi too, as in Polly.
ADDITIONAL_LANGUAGES = {"Aditi": ("hi-IN",)}
