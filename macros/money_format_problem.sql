{#-
    Returns why a spreadsheet money cell gives no amount (parse_money null), or null when it parses:
    'blank' (empty or spaces); 'not a number' (no digit at all: `TBD`, `n/a`, `-`); 'ambiguous number format' (only
    digits, `.`, `,` and spaces, with an optional sign, `$` or parentheses, but not US style: `3,61`, `1.234,56`,
    `1 234,56`, `12.345`, `1,23,456`, `12.` - another convention would read them, so they are not guessed);
    'unrecognized number format' (digits with anything else: `€12`, `12 EUR`, `1e3`, `--5`). A US-style amount
    over 15 integer digits (no spend is) reads as 'ambiguous number format'.
-#}
{% macro money_format_problem(value) -%}
    {%- set text = "trim(" ~ value ~ ")" -%}
    case
        when {{ text }} is null or {{ text }} = '' then 'blank'
        when ({{ parse_money(value) }}) is not null then null
        when not {{ is_full_match(text, '.*[0-9].*') }} then 'not a number'
        when {{ is_full_match(text, '([-+(]?[$]?|[$][-+])[0-9., ]*[0-9][0-9., ]*[)]?') }}
            then 'ambiguous number format'
        else 'unrecognized number format'
    end
{%- endmacro %}
