"""Welsh words too common to say what a response is about, for the suggested themes (shipped with
the package: nothing is downloaded at run time). Mutated forms are listed where they are common."""

from __future__ import annotations

# fmt: off
WELSH_STOP_WORDS = frozenset({
     "a", "ac", "achos", "ag", "ai", "all", "allan", "am", "amdani", "amdano", "ar", "arall", "arni",
     "arno", "at", "ato", "atyn", "bach", "bob", "bod", "bydd", "byddai", "byddant", "byddwn", "bynnag",
     "byth", "cael", "cafodd", "chi", "chyda", "cyda", "cyn", "dan", "dim", "dod", "dros", "drwy", "du",
     "dweud", "dy", "dylai", "dyma", "dyna", "e", "ef", "efallai", "efo", "ei", "eich", "ein", "eisiau",
     "eu", "fe", "fel", "felly", "fi", "fo", "fod", "fy", "gall", "gallai", "gallwn", "gan", "gen",
     "gennych", "gennyf", "gennym", "ger", "gwnaeth", "gwneud", "gyda", "gydag", "heb", "hefyd", "hi",
     "hoffwn", "hon", "honno", "hwn", "hwnnw", "hwy", "hyd", "hyn", "hynny", "i", "iawn", "iddi", "iddo",
     "iddyn", "mae", "maen", "mai", "mewn", "mi", "mo", "mor", "mwy", "mynd", "na", "nad", "nag",
     "naill", "nes", "neu", "nhw", "ni", "nid", "nôl", "o", "oedd", "oeddwn", "oes", "oherwydd", "ohoni",
     "ohono", "oll", "ond", "os", "pa", "pan", "pawb", "pe", "pob", "popeth", "pryd", "pwy", "rhag",
     "rhai", "rhaid", "rhwng", "roedd", "rwy", "rydw", "rydych", "rydyn", "sef", "sut", "sydd", "syn",
     "tan", "ti", "trwy", "tu", "tua", "wedi", "wrth", "y", "ychydig", "ydi", "ydw", "ydy", "ydych",
     "ydyn", "ym", "yma", "ymhlith", "yn", "ynddo", "yno", "ynof", "yr", "yw",
})
# fmt: on
