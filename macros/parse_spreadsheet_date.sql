{#-
    Returns the date written in a spreadsheet cell, or null when it is not a valid date in a known format:
    ISO `2026-03-04`, or US `03/04/2026` (month first: the sheet is kept by a US team, and the contract
    gives both spellings for the same day). Single-digit US months and days (`3/4/2026`) are accepted.
-#}
{% macro parse_spreadsheet_date(value) -%}
    {%- set text = "trim(" ~ value ~ ")" -%}
    {%- set us_as_iso = dbt.concat([
        dbt.split_part(text, "'/'", 3),
        "'-'",
        "lpad(" ~ dbt.split_part(text, "'/'", 1) ~ ", 2, '0')",
        "'-'",
        "lpad(" ~ dbt.split_part(text, "'/'", 2) ~ ", 2, '0')"
    ]) -%}
    case
        when {{ is_full_match(text, '[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
            then {{ safe_cast(text, 'date') }}
        when {{ is_full_match(text, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}') }}
            then {{ safe_cast(us_as_iso, 'date') }}
    end
{%- endmacro %}
