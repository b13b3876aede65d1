"""Finding a name by how it sounds: "ljx" (initials) or "lajixiang" (full pinyin) finds 垃圾箱.

The pickers (areas, categories, matter items) match a query against a name, its pinyin initials
and its full toneless pinyin. Keys are computed once per name and process (lru_cache): a city's
areas and the taxonomy are a few thousand names, a dictionary lookup each after the first time.
"""

from functools import lru_cache

from pypinyin import lazy_pinyin

# Lower rank first: the name starts with the query, contains it, then the initials, then the pinyin.
NAME_PREFIX, NAME, INITIALS_PREFIX, INITIALS, PINYIN = range(5)


@lru_cache(maxsize=100_000)
def keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a name, lower case, no spaces; other characters kept as they are
    ("A栋12号" → ("ad12h", "adong12hao"))."""
    syllables = [s.lower() for s in lazy_pinyin(name or "") if s.strip()]
    return "".join(s[0] if s[0].isalpha() else s for s in syllables), "".join(syllables)


def normalise(query: str) -> str:
    return "".join((query or "").split()).lower()


def rank(query: str, name: str) -> int | None:
    """How well a name matches a normalised query (lower is better), or None if it does not."""
    if not query:
        return None
    lowered = name.lower()
    if lowered.startswith(query):
        return NAME_PREFIX
    if query in lowered:
        return NAME
    if not query.isascii():  # Chinese typed: the name must contain it
        return None
    initials, full = keys(name)
    if initials.startswith(query):
        return INITIALS_PREFIX
    if query in initials:
        return INITIALS
    if len(query) > 1 and query in full:
        return PINYIN
    return None


def best(query: str, rows, names=lambda row: (row,), limit: int = 20) -> list:
    """The rows one of whose names (e.g. its own, then its group's) matches the query, best first
    (a match on a later name ranks after every match on an earlier one), then in their given order."""
    query = normalise(query)
    ranked = []
    for i, row in enumerate(rows):
        found = [r + 10 * n for n, name in enumerate(names(row)) if name and (r := rank(query, name)) is not None]
        if found:
            ranked.append((min(found), i, row))
    ranked.sort(key=lambda t: t[:2])
    return [row for _r, _i, row in ranked[:limit]]
