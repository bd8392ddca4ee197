from rest_framework import serializers

from ..models import AuditEvent
from ..registry import action_label


class AuditEventOutput(serializers.ModelSerializer):
    action_display = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "seq", "occurred_at", "kind", "action", "action_display", "actor_id", "actor_name",
                  "actor_role", "target_type", "target_id", "target_label", "contract_id", "customer_id",
                  "changes", "ip", "request_id", "user_agent", "outcome", "correlation_id", "chain_version"]
        read_only_fields = fields

    def get_action_display(self, event: AuditEvent) -> str:
        return action_label(event.action)
