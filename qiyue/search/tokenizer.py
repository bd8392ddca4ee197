"""The one tokenizer of the search index, used at index time and at query time on both databases.

Text is NFKC-normalised and case-folded (so full-width letters fold), then cut into runs:

- a run of CJK characters becomes its overlapping character bigrams followed by the run's last
  character on its own ("北京市" → 北京 京市 市; "京" → 京). The bigrams make every substring of two or
  more characters a phrase of adjacent bigrams; the closing unigram stops a phrase from running on
  into the next run (so "北京，京市" never matches 北京市) and makes a single character findable
  wherever it stands (a query 京 is the prefix 京*: a bigram that starts with it or the closing unigram);
- a run of other letters and digits is one token ("ISO9001" → iso9001), so English words and
  numbers match whole;
- everything else (spaces, punctuation, symbols) only separates.

Tokens never start with "_": that prefix is kept for the index's own key tokens (owner, team,
status …), so nothing a user types or a document says can be read as one. Nor do they end with it:
since index format 2 an entry also holds one "character token" per distinct CJK character of its
text ("京_", see `char_tokens`), outside its positions, so a query of one character reads that one
list instead of the lists of every bigram that starts with it.
"""

import re
import unicodedata
from dataclasses import dataclass

# CJK ideographs (with extensions and compatibility forms), kana and hangul: scripts written
# without spaces between words.
_CJK = (
    "\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
# Letters and digits that are not CJK: \w minus "_" minus the CJK ranges.
_RUNS = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
_CJK_CHAR = re.compile(f"[{_CJK}]")

# The longest query phrase (in characters) that is found even across a chunk boundary: chunks of
# long documents overlap by this much (see indexing.chunk_text).
MAX_QUERY_CHARS = 200


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def is_cjk(char: str) -> bool:
    return bool(_CJK_CHAR.fullmatch(char))


def runs(text: str, *, normalized: bool = False) -> list[tuple[str, bool]]:
    """(run, is_cjk) pairs of normalised text.

    Runs are found on the raw text and normalised one by one (NFKC of a whole document is slow,
    and most runs are ASCII words or CJK already in normal form); a run that normalisation
    changes is cut again, so "ＦＵＬＬ２０２６" and "full2026" give the same run."""
    out: list[tuple[str, bool]] = []
    append = out.append
    for cjk, word in _RUNS.findall(text):
        if word:
            if word.isascii():
                append((word.lower(), False))
            elif normalized:
                append((word, False))
            else:
                folded = normalize(word)
                if folded == word:
                    append((word, False))
                else:
                    out.extend(runs(folded, normalized=True))
        elif normalized or unicodedata.is_normalized("NFKC", cjk):
            append((cjk, True))
        else:
            out.extend(runs(normalize(cjk), normalized=True))
    return out


def tokenize(text: str) -> list[str]:
    """The index's token stream for `text` (positions are list indexes)."""
    tokens: list[str] = []
    append = tokens.append
    extend = tokens.extend
    for run, cjk in runs(text):
        if cjk:
            if len(run) > 1:
                extend(map(str.__add__, run[:-1], run[1:]))
            append(run[-1])
        else:
            append(run)
    return tokens


def char_tokens(tokens: list[str]) -> list[str]:
    """The character tokens of a token stream: each distinct CJK character once, sorted (a stream is a
    pure function of its entry). Every character of a CJK run starts one of its tokens (a bigram, or
    the run's closing unigram)."""
    firsts = "".join({token[0] for token in set(tokens)})
    return sorted(char + "_" for char in _CJK_CHAR.findall(firsts))


# --- queries -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Phrase:
    """Tokens at adjacent positions; when `prefix` the last one is a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False
    # The surface strings to highlight (normalised): CJK runs and Latin words of the phrase.
    parts: tuple[tuple[str, bool], ...] = ()


def phrase_of(text: str) -> Phrase | None:
    """One query word (or quoted phrase) as a phrase of index tokens, or None if it has no token.

    A CJK run of two or more characters becomes its bigrams, plus its closing unigram when more
    follows in the phrase (the text's run must end there too); a single CJK character at the end
    of the phrase is a prefix (bigrams starting with it, or the closing unigram itself); elsewhere
    it is its closing unigram."""
    parts = runs(text)
    tokens: list[str] = []
    prefix = False
    for index, (run, cjk) in enumerate(parts):
        last = index == len(parts) - 1
        if not cjk:
            tokens.append(run)
            continue
        if len(run) == 1:
            tokens.append(run)
            prefix = last
            continue
        tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        if not last:
            tokens.append(run[-1])
    if not tokens:
        return None
    return Phrase(tuple(tokens), prefix, tuple(parts))


def as_char_token(phrase: Phrase) -> Phrase:
    """A query of one CJK character (the prefix 京*) as its character token (index format 2); any
    other phrase as it is."""
    if len(phrase.tokens) == 1 and phrase.prefix and is_cjk(phrase.tokens[0]):
        return Phrase((phrase.tokens[0] + "_",), False, phrase.parts)
    return phrase


_QUOTED = re.compile(r'"([^"]*)"?|“([^”]*)”?|(\S+)')


def parse_query(q: str) -> list[Phrase]:
    """Words separated by spaces are ANDed; a "quoted phrase" (straight or Chinese quotes) keeps
    its words adjacent. Within a word, mixed runs ("USB接口") stay adjacent too."""
    phrases = []
    for m in _QUOTED.finditer(q[:MAX_QUERY_CHARS]):
        text = next(g for g in m.groups() if g is not None)
        phrase = phrase_of(text)
        if phrase is not None and phrase not in phrases:
            phrases.append(phrase)
    return phrases


def contains_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))
