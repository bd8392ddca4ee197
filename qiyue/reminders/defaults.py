"""The reminder rules a new installation starts with (R7.1), installed by a migration; administrators
change them afterwards."""

DEFAULT_RULES = [
    # key, Chinese name, English name, subject, offset days, to the responsible, to their manager, roles
    ("expiry-90", "合同 90 天后到期", "Contract expires in 90 days", "contract_expiry", -90, True, False, []),
    ("expiry-30", "合同 30 天后到期", "Contract expires in 30 days", "contract_expiry", -30, True, True, []),
    ("expiry-7", "合同 7 天后到期", "Contract expires in 7 days", "contract_expiry", -7, True, True, []),
    ("notice-14", "续约通知截止日临近（14 天）", "Renewal notice deadline in 14 days", "notice_deadline", -14,
     True, True, []),
    ("notice-passed", "续约通知截止日已过", "Renewal notice deadline passed", "notice_deadline", 1, True, True, []),
    ("installment-7", "款项 7 天后到期", "Installment due in 7 days", "installment_due", -7, True, False, []),
    ("installment-today", "款项今天到期", "Installment due today", "installment_due", 0, True, False, []),
    ("overdue-1", "款项逾期 1 天", "Installment overdue by 1 day", "installment_due", 1, True, False, []),
    ("overdue-15", "款项逾期 15 天", "Installment overdue by 15 days", "installment_due", 15, True, True, []),
    ("overdue-30", "款项逾期 30 天", "Installment overdue by 30 days", "installment_due", 30, True, True,
     ["finance"]),
    ("obligation-7", "履约事项 7 天后到期", "Obligation due in 7 days", "obligation_due", -7, True, False, []),
    ("obligation-late", "履约事项已逾期", "Obligation late", "obligation_due", 1, True, True, []),
    ("review-7", "定期复核 7 天后到期", "Periodic review due in 7 days", "review_due", -7, True, False, []),
    ("review-today", "定期复核今天到期", "Periodic review due today", "review_due", 0, True, True, []),
    ("approval-3", "审批任务等待超过 3 天（上报上级）", "Approval task waiting over 3 days (escalated)",
     "approval_waiting", 3, True, True, []),
]


def install_default_rules(ReminderRule) -> None:  # noqa: N803  (the migration's historical model)
    """Add the default rules that are missing (by key)."""
    for position, (key, zh, en, subject, offset, responsible, manager, roles) in enumerate(DEFAULT_RULES):
        ReminderRule.objects.get_or_create(key=key, defaults={
            "name_zh": zh, "name_en": en, "subject": subject, "offset_days": offset, "to_responsible": responsible,
            "to_manager": manager, "to_roles": roles, "position": (position + 1) * 10})
