# Amounts in Chinese finance documents group by thousands with a comma (1,234,567.89);
# Django's zh_Hans locale has no thousands separator.
from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
