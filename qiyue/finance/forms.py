"""Reading the plan editor's rows from a form post (the page's editor has no Django form: its rows are
added and removed in the browser, each a set of same-named inputs)."""

PLAN_FIELDS = ("id", "due_date", "amount", "condition", "obligation", "days_after")


def plan_rows(post, *, keep_empty: bool = False) -> list[dict]:
    """The editor's rows, in order; a row left wholly empty is no installment (kept only to show the
    editor again as the user left it)."""
    columns = {name: post.getlist(f"row-{name}") for name in PLAN_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for index in range(count):
        row = {name: (values[index] if index < len(values) else "") for name, values in columns.items()}
        if keep_empty or any((row[name] or "").strip() for name in ("due_date", "amount", "condition", "obligation")):
            rows.append(row)
    return rows
