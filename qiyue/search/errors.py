"""Stable error codes of the search (tests and API clients branch on these, never on wording)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from qiyue.core.errors import ApplicationError


class SearchErrorCode(StrEnum):
    # The query has no letter, digit or Chinese character (only punctuation or symbols): the index
    # holds no token for it, so nothing could ever be found.
    QUERY_HAS_NO_WORDS = "query_has_no_words"


NO_WORDS_MESSAGE = _("Search for words, names or numbers: punctuation and symbols alone are not searched.")


def query_has_no_words_error() -> ApplicationError:
    return ApplicationError(SearchErrorCode.QUERY_HAS_NO_WORDS, NO_WORDS_MESSAGE,
                            fields={"q": [str(NO_WORDS_MESSAGE)]}, status=400)
