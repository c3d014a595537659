{#-
    Generic test: fails (warns, with severity: warn) when rows of the model or source match `condition`, and lists
    them with `listed_columns` (names or `<expression> as <name>`; every column when omitted). For the one-predicate
    checks written in a model's or source's YAML. Not dbt_utils' expression_is_true: it returns only `1` per row
    unless failures are stored, and the listing (file and line, ids) is what the warning's reader acts on.
-#}
{% test no_rows_where(model, condition, listed_columns=none) %}

    with

    checked as (
        select * from {{ model }}
    ),

    final as (
        select {{ (listed_columns or ['*']) | join(', ') }}
        from checked
        where {{ condition }}
    )

    select * from final

{% endtest %}
