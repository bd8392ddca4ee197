from rest_framework import serializers

from ..models import User


class UserOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = User
        fields = ["id", "username", "name", "display_name", "role", "role_display", "team", "team_name",
                  "is_active"]
        read_only_fields = fields
