from django.conf import settings
from rest_framework import serializers

from ..kinds import render
from ..models import Notification


class NotificationOutput(serializers.ModelSerializer):
    text = serializers.SerializerMethodField(help_text="What happened, in the language of the request.")
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "params", "url", "created_at", "read", "read_at"]
        extra_kwargs = {
            "kind": {"help_text": "The kind of notification (see `GET /api/v1/notifications/settings/`)."},
            "params": {"help_text": "The facts the text is made of (names, numbers), by name."},
            "url": {"help_text": "The path of the page it is about, on this server."},
        }

    def get_text(self, obj) -> str:
        return render(obj.kind, obj.params)

    def get_read(self, obj) -> bool:
        return obj.read_at is not None


class KindSetting(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    email = serializers.BooleanField(help_text="Whether the user gets this kind by e-mail.")
    in_app = serializers.BooleanField(help_text="Whether the user gets this kind in the app (unread in the inbox).")
    digest = serializers.BooleanField(help_text="Whether this kind's e-mails may come in the daily digest.")


class NotificationSettingsOutput(serializers.Serializer):
    kinds = KindSetting(many=True)
    daily_digest = serializers.BooleanField(help_text="Whether e-mails of the kinds that allow it come as one "
                                                      "digest a day.")
    language = serializers.CharField(help_text="The language of e-mails; empty: the site's.")


class NotificationSettingsInput(serializers.Serializer):
    email_kinds = serializers.ListField(child=serializers.CharField(max_length=50), max_length=100,
                                        help_text="The kinds to get by e-mail; every other kind: not.")
    app_kinds = serializers.ListField(child=serializers.CharField(max_length=50), max_length=100, required=False,
                                      help_text="The kinds to get in the app; every other kind: not. Left out: "
                                                "unchanged.")
    daily_digest = serializers.BooleanField(required=False, help_text="Left out: unchanged.")
    language = serializers.ChoiceField(choices=["", *(code for code, _name in settings.LANGUAGES)], required=False,
                                       help_text="The language of e-mails (`zh-hans`, `en`, or empty: the site's).")


class ReadAllOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread.")
