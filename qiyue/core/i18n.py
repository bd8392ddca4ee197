"""Strings that third-party packages show in our pages but do not translate into zh-Hans.

Listing them here puts them in our catalogue, which takes precedence over the packages' own.
"""

from django.utils.translation import gettext_noop

THIRD_PARTY_STRINGS = (
    gettext_noop("%s (descending)"),  # django-filter's OrderingFilter (it ships zh_CN, not zh_Hans)
)
