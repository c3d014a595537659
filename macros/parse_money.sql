{#-
    Returns the decimal(18,2) amount written in a spreadsheet cell, or null unless the cell holds an unambiguous
    US-style amount. Accepted: an optional sign (`-`, `+`) before or after an optional `$`, spaces after it, then
    digits with commas only as thousands separators in groups of three, and an optional `.` with 1 or 2 decimals;
    an amount in parentheses is a negative (accounting style). `$1,234.56` -> 1234.56; ` 980 ` -> 980.00;
    `1234.5` -> 1234.50; `.5` -> 0.50; `-$12.50`, `$-12.50` and `(12.50)` -> -12.50.
    Everything else is null, never guessed (money_format_problem says why): a comma decimal (`3,61`), European or
    space grouping (`1.234,56`, `1 234,56`), three decimals (`12.345`: European thousands or a tenth of a cent?),
    other groupings (`1,23,456`), another currency (`€12`, `12 EUR`), `1e3`, `12.`, `--5`, `TBD`, blank.
    At most 15 integer digits, so every accepted amount fits decimal(18,2).
-#}
{% macro parse_money(value) -%}
    {%- set text = "trim(" ~ value ~ ")" -%}
    {%- set number = "([0-9]{1,3}(,[0-9]{3}){1,4}|[0-9]{1,15})([.][0-9]{1,2})?|[.][0-9]{1,2}" -%}
    {%- set us_money = "([-+]?[$]?|[$][-+])[ ]*(" ~ number ~ ")|[(][$]?[ ]*(" ~ number ~ ")[)]" -%}
    {#- What is left once the pattern matched is a plain number; an accounting `(` becomes the minus sign. -#}
    {%- set cleaned = "replace(replace(replace(replace(replace(replace(" ~ text
        ~ ", '$', ''), ',', ''), ' ', ''), '+', ''), '(', '-'), ')', '')" -%}
    case
        when {{ is_full_match(text, us_money) }}
            then {{ money_amount(safe_cast(cleaned, 'decimal(38,6)')) }}
    end
{%- endmacro %}
