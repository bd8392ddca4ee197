from rest_framework import serializers

from qiyue.core.roles import Role

from ..models import ReminderRule, Subject


class RuleOutput(serializers.ModelSerializer):
    to_users = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    name = serializers.SerializerMethodField()

    class Meta:
        model = ReminderRule
        fields = ["id", "key", "name", "name_zh", "name_en", "subject", "offset_days", "to_responsible", "to_manager",
                  "to_roles", "to_users", "active", "position", "last_scanned_on", "version", "updated_at"]

    def get_name(self, obj) -> str:
        return str(obj)


class RuleInput(serializers.Serializer):
    name_zh = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    subject = serializers.ChoiceField(choices=Subject.choices)
    offset_days = serializers.IntegerField(min_value=-3650, max_value=3650,
                                           help_text="Days from the date: negative before, 0 on the day, positive after.")
    to_responsible = serializers.BooleanField(required=False, default=True)
    to_manager = serializers.BooleanField(required=False, default=False)
    to_roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), max_length=10,
                                     required=False, default=list)
    to_users = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=100,
                                     required=False,
                                     default=list, help_text="Ids of active users.")
    active = serializers.BooleanField(required=False, default=True)
    position = serializers.IntegerField(min_value=0, max_value=100000, required=False, default=100)


class RuleUpdateInput(RuleInput):
    version = serializers.IntegerField(help_text="The version read; 409 stale_version when the rule changed since.")


class DateOutput(serializers.Serializer):
    subject = serializers.ChoiceField(choices=Subject.choices)
    date = serializers.DateField()
    object_type = serializers.CharField(help_text="contract, installment or obligation")
    object_id = serializers.IntegerField()
    contract_id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    text = serializers.CharField(help_text="What falls due, in the request's language.")
    url = serializers.CharField(help_text="The path of the page it is about.")


FEED_SUBJECTS = [Subject.CONTRACT_EXPIRY, Subject.NOTICE_DEADLINE, Subject.INSTALLMENT_DUE, Subject.OBLIGATION_DUE,
                 Subject.REVIEW_DUE]


class DatesQuery(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (default: today).")
    end = serializers.DateField(required=False, help_text="Last day (default: 30 days after start; at most 400 days "
                                                          "after it).")
    whose = serializers.ChoiceField(choices=["mine", "all", "owner", "team"], required=False, default="mine")
    owner = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    team = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    subject = serializers.MultipleChoiceField(
        choices=FEED_SUBJECTS,
        required=False)


class FeedOutput(serializers.Serializer):
    exists = serializers.BooleanField()
    subjects = serializers.ListField(child=serializers.ChoiceField(choices=FEED_SUBJECTS),
                                     help_text="The kinds of date the feed holds.")
    url = serializers.CharField(help_text="The secret address calendar apps subscribe to; empty until created.")
    time_zone = serializers.CharField(help_text="The time zone of the entries (empty at creation: the site's).")
    created_at = serializers.DateTimeField(allow_null=True)
    reset_at = serializers.DateTimeField(allow_null=True)
    last_read_at = serializers.DateTimeField(allow_null=True)


class FeedInput(serializers.Serializer):
    time_zone = serializers.CharField(max_length=64, allow_blank=True, required=False,
                                      help_text="An IANA time zone such as Asia/Shanghai; empty: the site's. Left out: "
                                                "unchanged.")
    subjects = serializers.ListField(child=serializers.ChoiceField(choices=FEED_SUBJECTS), min_length=1, max_length=10,
                                     required=False, help_text="The kinds of date the feed holds. Left out: unchanged.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"time_zone": ["Send time_zone, subjects or both."]})
        return attrs


