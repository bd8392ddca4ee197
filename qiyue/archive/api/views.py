"""Archive API: the facet counts of the archive page, over the same filters as the contract list."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import policies, selectors


class FacetValueOutput(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class FacetOutput(serializers.Serializer):
    label = serializers.CharField()
    truncated = serializers.BooleanField(help_text="More values exist than are listed (customers: top 20).")
    values = FacetValueOutput(many=True)


class FacetsOutput(serializers.Serializer):
    total = serializers.IntegerField()
    deleted = serializers.BooleanField()
    facets = serializers.DictField(child=FacetOutput())


class ArchiveFacetsView(APIView):
    @extend_schema(
        operation_id="archive_facets",
        summary="Archive facet counts (nature, subject matter, signing form, status, customer, signing year)",
        description="Takes the contract list's filters plus `signing_year` (a year, or `none`). Counts cover "
                    "only contracts the user may see; each facet's counts ignore that facet's own filter. "
                    "`deleted=1` counts deleted contracts instead (admin and auditor only).",
        parameters=[OpenApiParameter("signing_year", OpenApiTypes.STR),
                    OpenApiParameter("deleted", OpenApiTypes.BOOL)],
        responses={200: FacetsOutput, 400: OpenApiResponse(description="invalid")},
    )
    def get(self, request):
        params = request.query_params.copy()
        deleted = params.pop("deleted", [""])[-1] in ("1", "true") and policies.may_see_deleted(request.user)
        params.pop("page", None)
        filterset = selectors.archive_filter(user=request.user, params=params, deleted=deleted)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        facets = selectors.archive_facets(user=request.user, params=params, deleted=deleted)
        return Response({
            "total": filterset.qs.count(),
            "deleted": deleted,
            "facets": {f.name: {"label": f.label, "truncated": f.truncated,
                                "values": [{"value": v.value, "label": v.label, "count": v.count} for v in f.values]}
                       for f in facets},
        })
