"""Customer, contact and communication API. Thin: rows come from the selectors (invisible
ones are 404), inputs are validated by serializers, every write is one service call."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from qiyue.core.api import ServiceViewMixin, require_version
from qiyue.core.errors import permission_denied

from .. import policies, services
from ..filters import CommunicationFilter, ContactFilter, CustomerFilter
from ..models import Communication, Contact, Customer
from ..selectors import communication_list, contact_list, customer_list, customer_open
from .serializers import (
    CommunicationInput,
    CommunicationOutput,
    ContactCreateInput,
    ContactInput,
    ContactOutput,
    CustomerInput,
    CustomerOutput,
    CustomerUpdateInput,
)

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          403: OpenApiResponse(description="permission_denied"),
          404: OpenApiResponse(description="not_found")}


@extend_schema_view(
    list=extend_schema(summary="Customers the user may see, filtered and sorted (`ordering`)"),
    retrieve=extend_schema(summary="One customer (records an access event)",
                           responses={200: CustomerOutput, **ERRORS}),
    create=extend_schema(request=CustomerInput, responses={201: CustomerOutput, **ERRORS}),
    update=extend_schema(request=CustomerUpdateInput, responses={
        200: CustomerOutput, **ERRORS, 409: OpenApiResponse(description="stale_version")}),
    partial_update=extend_schema(request=CustomerUpdateInput, responses={
        200: CustomerOutput, **ERRORS, 409: OpenApiResponse(description="stale_version")}),
)
class CustomerViewSet(ServiceViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Customers the user may see (their owner's role and team decide). A change carries the `version` it
    was read at (409 `stale_version` when someone changed the customer since); the unified social credit
    code is checked (GB 32100-2015). Every change, and every read of one customer, is audited."""
    serializer_class = output_serializer = CustomerOutput
    filterset_class = CustomerFilter
    queryset = Customer.objects.none()  # the real rows come from the selector

    def get_queryset(self):
        return customer_list(user=self.request.user)

    def retrieve(self, request, pk=None):
        customer = customer_open(user=request.user, pk=pk, queryset=self.filter_queryset(self.get_queryset()))
        return Response(self.output(customer))

    def create(self, request):
        if not policies.can_create_customer(request.user):
            raise permission_denied()
        data = self.validated(CustomerInput, request.data)
        confirm = data.pop("confirm_duplicate", False)
        customer = services.customer_create(actor=request.user, data=data, confirm_duplicate=confirm)
        return Response(self.output(customer), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        customer = self.get_object()
        if not policies.can_edit_customer(request.user, customer):
            raise permission_denied()
        data = self.validated(CustomerUpdateInput, request.data, partial=partial)
        confirm = data.pop("confirm_duplicate", False)
        customer = services.customer_update(actor=request.user, customer=customer, data=data,
                                            expected_version=require_version(data), confirm_duplicate=confirm)
        return Response(self.output(customer))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)


@extend_schema_view(
    create=extend_schema(request=ContactCreateInput, responses={201: ContactOutput, **ERRORS}),
    update=extend_schema(request=ContactInput, responses={200: ContactOutput, **ERRORS}),
    partial_update=extend_schema(request=ContactInput, responses={200: ContactOutput, **ERRORS}),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
class ContactViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """The contacts of the customers the user may see. A change carries the `version` it was read at
    (409 `stale_version` otherwise); changes and deletions are audited."""
    serializer_class = output_serializer = ContactOutput
    filterset_class = ContactFilter
    queryset = Contact.objects.none()

    def get_queryset(self):
        return contact_list(user=self.request.user)

    def create(self, request):
        data = self.validated(ContactCreateInput, request.data)
        customer = data.pop("customer")
        contact = services.contact_create(actor=request.user, customer=customer, data=data)
        return Response(self.output(contact), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        contact = self.get_object()
        if not policies.can_edit_customer(request.user, contact.customer):
            raise permission_denied()
        data = self.validated(ContactInput, request.data, partial=partial)
        contact = services.contact_update(actor=request.user, contact=contact, data=data)
        return Response(self.output(contact))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.contact_delete(actor=request.user, contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(request=CommunicationInput, responses={201: CommunicationOutput, **ERRORS}),
)
class CommunicationViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Communication records (calls, visits, meetings …) with the customers the user may see. Records
    are added, never changed, and each addition is audited."""
    serializer_class = output_serializer = CommunicationOutput
    filterset_class = CommunicationFilter
    queryset = Communication.objects.none()

    def get_queryset(self):
        return communication_list(user=self.request.user)

    def create(self, request):
        data = self.validated(CommunicationInput, request.data)
        customer = data.pop("customer")
        record = services.communication_create(actor=request.user, customer=customer, data=data)
        return Response(self.output(record), status=status.HTTP_201_CREATED)
