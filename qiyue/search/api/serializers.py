from rest_framework import serializers

from qiyue.core.search_kinds import kind_choices


class SearchHitOutput(serializers.Serializer):
    # The kinds registered when the API is loaded (apps register theirs before).
    type = serializers.ChoiceField(choices=kind_choices(), source="kind")
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="Contract number and title, customer name, or for a document the "
                                            "number and title of its contract (or its customer's name).")
    url = serializers.CharField(help_text="The page that opens the hit (opening it is recorded as an access).")
    snippet = serializers.CharField(help_text="HTML: the escaped text around the match, matches in <mark>.")
    page = serializers.IntegerField(
        allow_null=True, help_text="Documents with pages (PDF, multi-page TIFF): the page of the match the snippet "
                                   "shows. Null for contracts and customers, for formats without pages (DOCX, "
                                   "XLSX, JPEG, PNG) and when only the document's title matched.")
    file = serializers.CharField(allow_blank=True, help_text="Documents: the document's title.")


class SearchPageOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="Hits, exact up to 1,000; see count_capped.")
    count_capped = serializers.BooleanField(help_text="True when there are more than 1,000 hits (shown as "
                                                      "“1,000+”); the results are then newest first.")
    ranked = serializers.BooleanField(help_text="True when the hits were few enough to rank: title matches first, then newest.")
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SearchHitOutput(many=True)
