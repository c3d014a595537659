{#-
    Returns the date written in a spreadsheet cell, or null when it is not a valid date in a known format:
    ISO `2026-03-04`, or US `03/04/2026` (month first: the sheet is kept by a US team, and the contract
    gives both spellings for the same day). Single-digit US months and days (`3/4/2026`) are accepted.
    Nothing else is guessed: a day-first date (`13/03/2026`), a two-digit year (`03/04/26`), `2026-3-4`,
    `2026/03/04`, a time after the day, or an impossible day (`02/30/2026`) is null. A slash date that reads both
    ways (`04/03/2026`) is the contract's month-first day: a cell cannot tell it from a day-first typo.
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
