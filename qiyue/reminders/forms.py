import datetime
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.core.htmx import BootstrapFormMixin
from qiyue.core.roles import Role

from .dates import CALENDAR_SUBJECTS
from .models import Subject

WHEN = [("before", _("days before the date")), ("on", pgettext_lazy("reminder", "on the day")),
        ("after", _("days after the date"))]


class RuleForm(BootstrapFormMixin, forms.Form):
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100, required=False)
    subject = forms.ChoiceField(label=_("Date watched"), choices=Subject.choices)
    days = forms.IntegerField(label=_("Days"), min_value=0, max_value=3650, initial=7)
    when = forms.ChoiceField(label=_("When"), choices=WHEN, initial="before")
    to_responsible = forms.BooleanField(
        label=_("The person responsible"), required=False,
        help_text=_("The contract's owner; an obligation's own owner if it has one; an approval task's approver."))
    to_manager = forms.BooleanField(label=_("Their manager"), required=False,
                                    help_text=_("Whom that person reports to, else the managers of their team."))
    to_roles = forms.MultipleChoiceField(label=_("Everyone with the roles"), choices=Role.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    to_users = forms.ModelMultipleChoiceField(label=_("These users"), queryset=get_user_model().objects.none(),
                                              required=False,
                                              help_text=_("Only told of the contracts they may see."))
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=100000, initial=100)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_users"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["to_users"].widget.attrs["size"] = 6
        self.fields["to_roles"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        days, when = data.get("days"), data.get("when")
        if days is not None and when:
            data["offset_days"] = 0 if when == "on" else (-days if when == "before" else days)
        return data

    def data_for_service(self) -> dict:
        d = self.cleaned_data
        return {"name_zh": d["name_zh"], "name_en": d["name_en"], "subject": d["subject"],
                "offset_days": d["offset_days"], "to_responsible": d["to_responsible"],
                "to_manager": d["to_manager"], "to_roles": list(d["to_roles"]),
                "to_users": [u.pk for u in d["to_users"]], "active": d["active"], "position": d["position"]}


def rule_initial(rule) -> dict:
    offset = rule.offset_days
    return {"name_zh": rule.name_zh, "name_en": rule.name_en, "subject": rule.subject, "days": abs(offset),
            "when": "on" if offset == 0 else ("before" if offset < 0 else "after"),
            "to_responsible": rule.to_responsible, "to_manager": rule.to_manager, "to_roles": rule.to_roles,
            "to_users": list(rule.to_users.all()), "active": rule.active, "position": rule.position,
            "version": rule.version}


def time_zone_choices():
    common = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
              "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC"]
    rest = sorted(available_timezones() - set(common))
    return [("", _("The site's time zone")), *((z, z) for z in common), *((z, z) for z in rest)]


class FeedForm(BootstrapFormMixin, forms.Form):
    subjects = forms.MultipleChoiceField(label=_("Dates in the feed"), required=True,
                                         widget=forms.CheckboxSelectMultiple)
    time_zone = forms.ChoiceField(label=_("Time zone of the entries"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
        self.fields["subjects"].choices = [(s, Subject(s).label) for s in CALENDAR_SUBJECTS]
        self.fields["subjects"].widget.attrs["class"] = "form-check-input"


def parse_month(value: str | None, today: datetime.date) -> datetime.date | None:
    """The first day of the month "YYYY-MM" (empty: this month); None when it is no such month."""
    if not value:
        return today.replace(day=1)
    try:
        year, month = value.split("-")
        day = datetime.date(int(year), int(month), 1)
    except (ValueError, TypeError):
        return None
    return day if 2000 <= day.year <= 2100 and len(value) <= 7 else None
